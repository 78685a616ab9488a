package dev.toykvm.devices.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.devices.BusDevice;
import java.util.List;
import org.junit.jupiter.api.Test;

class BusTest {
  /** A device that remembers nothing; tests only care about identity. */
  static final class Dummy implements BusDevice {
    @Override
    public long read(long offset, int size) {
      return offset;
    }

    @Override
    public void write(long offset, int size, long value) {}
  }

  private final Bus bus = new Bus("pio");

  @Test
  void lookupGivesTheDeviceAndTheOffset() {
    Dummy uart = new Dummy();
    bus.insert("uart", 0x3f8, 8, uart);
    Bus.Match m = bus.lookup(0x3fd).orElseThrow();
    assertSame(uart, m.device());
    assertEquals(5, m.offset());
    assertEquals("uart", m.name());
    assertEquals(new BusRange(0x3f8, 8), m.range());
  }

  @Test
  void addressesOutsideEveryRangeFindNothing() {
    bus.insert("uart", 0x3f8, 8, new Dummy());
    assertTrue(bus.lookup(0x3f7).isEmpty());
    assertTrue(bus.lookup(0x400).isEmpty());
    assertTrue(bus.lookup(0).isEmpty());
    assertTrue(bus.lookup(-1).isEmpty());
  }

  @Test
  void zeroLengthIsRefused() {
    BusRangeException e =
        assertThrows(BusRangeException.class, () -> bus.insert("nothing", 0x10, 0, new Dummy()));
    assertTrue(e.getMessage().contains("nothing"), e.getMessage());
    assertTrue(e.getMessage().contains("length is 0"), e.getMessage());
  }

  @Test
  void overflowPast2To64IsRefused() {
    BusRangeException e =
        assertThrows(
            BusRangeException.class,
            () -> bus.insert("huge", 0xffff_ffff_ffff_f000L, 0x2000, new Dummy()));
    assertTrue(e.getMessage().contains("runs past the end"), e.getMessage());
  }

  @Test
  void aRangeEndingExactlyAt2To64IsFine() {
    Dummy top = new Dummy();
    bus.insert("top", 0xffff_ffff_ffff_f000L, 0x1000, top);
    assertSame(top, bus.lookup(-1L).orElseThrow().device());
    assertEquals(0xfff, bus.lookup(-1L).orElseThrow().offset());
  }

  @Test
  void unsignedAddressesSortAboveSignedOnes() {
    Dummy low = new Dummy();
    Dummy high = new Dummy();
    bus.insert("high", 0xfee0_0000_0000_0000L, 0x1000, high);
    bus.insert("low", 0x1000, 0x1000, low);
    assertSame(high, bus.lookup(0xfee0_0000_0000_0010L).orElseThrow().device());
    assertSame(low, bus.lookup(0x1010).orElseThrow().device());
    assertTrue(bus.lookup(0x8000_0000_0000_0000L).isEmpty());
  }

  @Test
  void overlapIsRefusedNamingBothRanges() {
    bus.insert("uart", 0x3f8, 8, new Dummy());
    BusRangeException e =
        assertThrows(BusRangeException.class, () -> bus.insert("other", 0x3ff, 2, new Dummy()));
    assertEquals(
        "cannot insert other [0x3ff, 0x400] on the pio bus: it overlaps uart [0x3f8, 0x3ff]",
        e.getMessage());
  }

  @Test
  void overlapIsRefusedWhenTheNewRangeCoversAnOldOne() {
    bus.insert("small", 0x100, 1, new Dummy());
    assertThrows(BusRangeException.class, () -> bus.insert("big", 0x0, 0x1000, new Dummy()));
  }

  @Test
  void adjacentRangesAreFine() {
    bus.insert("a", 0x3f8, 8, new Dummy());
    bus.insert("b", 0x400, 8, new Dummy());
    bus.insert("c", 0x3f0, 8, new Dummy());
    assertEquals(
        List.of("[0x3f0, 0x3f7] c", "[0x3f8, 0x3ff] a", "[0x400, 0x407] b"), bus.describe());
  }

  @Test
  void removeFreesTheRange() {
    bus.insert("uart", 0x3f8, 8, new Dummy());
    assertTrue(bus.remove(0x3f8));
    assertFalse(bus.remove(0x3f8));
    assertTrue(bus.lookup(0x3f8).isEmpty());
    bus.insert("again", 0x3f8, 8, new Dummy());
  }
}
