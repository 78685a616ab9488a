package dev.toykvm.vmm.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PciConfigIoTest {
  /** A function that echoes offsets and records writes. */
  private static final class Echo implements PciFunction {
    final List<String> writes = new ArrayList<>();

    @Override
    public int readConfig(int offset, int size) {
      int v = 0;
      for (int i = size - 1; i >= 0; i--) {
        v = v << 8 | (offset + i);
      }
      return v;
    }

    @Override
    public void writeConfig(int offset, int size, int value) {
      writes.add("%x/%d=%x".formatted(offset, size, value));
    }
  }

  private final PciBus bus = new PciBus();
  private final Echo echo = new Echo();
  private final AtomicInteger resets = new AtomicInteger();
  private final PciConfigIo io = new PciConfigIo(bus, resets::incrementAndGet);

  PciConfigIoTest() {
    bus.add(3, 2, echo);
  }

  private static long address(int device, int fn, int register) {
    return 0x8000_0000L | device << 11 | fn << 8 | register;
  }

  @Test
  void theAddressRegisterIsDwordOnlyAndReadsBack() {
    io.write(0, 4, 0x8000_1234L);
    assertEquals(0x8000_1234L, io.read(0, 4));
    io.write(0, 2, 0);
    io.write(2, 1, 0);
    assertEquals(0x8000_1234L, io.read(0, 4), "narrower writes are not the address register");
    assertEquals(0xffff, io.read(0, 2));
    assertEquals(0xff, io.read(3, 1));
  }

  @Test
  void dataAccessesOfEverySizeReachTheRegisterAtTheirOffset() {
    io.write(0, 4, address(3, 2, 0x40));
    assertEquals(0x4342_4140L, io.read(4, 4));
    assertEquals(0x4140, io.read(4, 2));
    assertEquals(0x4342, io.read(6, 2));
    assertEquals(0x41, io.read(5, 1));
    assertEquals(0x43, io.read(7, 1));
    io.write(5, 1, 0xab);
    io.write(6, 2, 0xcdef);
    io.write(4, 4, 0x1234_5678);
    assertEquals(List.of("41/1=ab", "42/2=cdef", "40/4=12345678"), echo.writes);
  }

  @Test
  void theLowTwoAddressBitsDoNotMoveTheRegister() {
    io.write(0, 4, address(3, 2, 0x40) | 3);
    assertEquals(0x41, io.read(5, 1));
  }

  @Test
  void absentFunctionsOtherBusesTheDisabledBitAndCrossingAccessesReadAllOnes() {
    io.write(0, 4, address(3, 1, 0));
    assertEquals(0xffff_ffffL, io.read(4, 4), "no function 1");
    io.write(0, 4, address(3, 2, 0) | 1 << 16);
    assertEquals(0xffff_ffffL, io.read(4, 4), "bus 1");
    io.write(0, 4, address(3, 2, 0) & 0x7fff_ffffL);
    assertEquals(0xffff_ffffL, io.read(4, 4), "enable bit clear");
    io.write(4, 4, 0x55);
    io.write(0, 4, address(3, 2, 0));
    assertEquals(0xffff_ffffL, io.read(6, 4), "crosses 0xcff");
    io.write(7, 2, 0);
    assertEquals(List.of(), echo.writes);
  }

  @Test
  void resetControlKeepsItsBitsAndResetsOnBit2() {
    io.write(1, 1, 0x02);
    assertEquals(0x02, io.read(1, 1));
    assertEquals(0, resets.get());
    io.write(1, 1, 0x06);
    assertEquals(1, resets.get());
  }

  @Test
  void aBusSlotTakesOneFunction() {
    assertThrows(IllegalArgumentException.class, () -> bus.add(3, 2, echo));
    assertThrows(IllegalArgumentException.class, () -> bus.add(32, 0, echo));
    assertEquals(List.of("00:03.2"), bus.describe());
  }
}
