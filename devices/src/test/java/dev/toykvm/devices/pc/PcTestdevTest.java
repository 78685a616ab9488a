package dev.toykvm.devices.pc;

import static dev.toykvm.devices.pc.PcTestdev.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.devices.BusDevice;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PcTestdevTest {
  private final List<String> irqs = new ArrayList<>();
  private final List<Long> flushed = new ArrayList<>();
  private final PcTestdev dev =
      new PcTestdev((n, level) -> irqs.add(n + "=" + level), flushed::add);

  @ParameterizedTest(name = "out{0} 0x{2} at 0xe0+{1} leaves 0x{3}")
  @CsvSource({
    // size, offset, value, register after (it starts as 0x11223344)
    "1, 0, aa, 112233aa",
    "1, 1, aa, 1122aa44",
    "1, 3, aa, aa223344",
    "2, 0, aabb, 1122aabb",
    "2, 2, aabb, aabb3344",
    "2, 3, aabb, bb223344", // bytes past byte 3 are dropped
    "4, 0, aabbccdd, aabbccdd",
    "4, 1, aabbccdd, bbccdd44",
  })
  void scratchWritesGoToTheirByteLanes(int size, int offset, String value, String after) {
    dev.write(SCRATCH, 4, 0x11223344);
    dev.write(SCRATCH + offset, size, Long.parseLong(value, 16));
    assertEquals((int) Long.parseLong(after, 16), dev.scratch());
  }

  @ParameterizedTest(name = "in{0} from 0xe0+{1} reads 0x{2}")
  @CsvSource({
    "1, 0, 44",
    "1, 2, 22",
    "1, 3, 11",
    "2, 0, 3344",
    "2, 1, 2233",
    "2, 3, 11",
    "4, 0, 11223344",
    "4, 2, 1122",
  })
  void scratchReadsComeFromTheirByteLanes(int size, int offset, String value) {
    dev.write(SCRATCH, 4, 0x11223344);
    assertEquals(Long.parseLong(value, 16), dev.read(SCRATCH + offset, size));
  }

  @Test
  void kvmUnitTestsEmulatorIoTest() {
    // emulator.c test_io: outb 0xab to 0xe0, inb; outw, inw; outl, inl.
    dev.write(SCRATCH, 1, 0xab);
    assertEquals(0xab, dev.read(SCRATCH, 1));
    dev.write(SCRATCH, 2, 0xabcd);
    assertEquals(0xabcd, dev.read(SCRATCH, 2));
    dev.write(SCRATCH, 4, 0xabcd_ef01L);
    assertEquals(0xabcd_ef01L, dev.read(SCRATCH, 4));
  }

  @ParameterizedTest(name = "{0}-byte access at 0xe8+{1}")
  @CsvSource({"1, 0", "1, 3", "2, 0", "2, 1", "2, 3", "4, 0", "4, 2", "4, 3"})
  void theByteWindowIsTheSameRegisterWithLanesWrapping(int size, int offset) {
    dev.write(SCRATCH, 4, 0x11223344);
    long v = 0xa1b2_c3d4L & BusDevice.allOnes(size);
    dev.write(SCRATCH_BYTES + offset, size, v);
    assertEquals(v, dev.read(SCRATCH_BYTES + offset, size), "reads back");
    int expected = 0x11223344;
    for (int i = 0; i < size; i++) {
      int lane = (offset + i) & 3;
      expected = (expected & ~(0xff << 8 * lane)) | (int) ((v >>> 8 * i) & 0xff) << 8 * lane;
    }
    assertEquals(expected, dev.scratch());
  }

  @Test
  void theFlushPagePortTakesFourByteWritesOfAnAddress() {
    dev.write(FLUSH_PAGE, 4, 0x0012_3456L);
    dev.write(FLUSH_PAGE, 2, 0x5000);
    dev.write(FLUSH_PAGE, 1, 0x50);
    assertEquals(List.of(0x0012_3000L), flushed);
    assertEquals(0, dev.read(FLUSH_PAGE, 4));
    assertEquals(2, dev.ignoredAccesses());
    assertEquals(0, dev.scratch(), "the flush port is not the scratch register");
  }

  @Test
  void aTestdevWithoutAFlushHandlerIgnoresFlushes() {
    PcTestdev d = new PcTestdev((n, level) -> {});
    d.write(FLUSH_PAGE, 4, 0x1000);
    assertEquals(0, d.ignoredAccesses());
  }

  @Test
  void irqLinePortsRaiseAndLowerLines() {
    BusDevice lines = dev.irqLines();
    lines.write(10, 1, 1); // outb(1, 0x200a): raise IRQ 10
    lines.write(10, 1, 0);
    lines.write(0, 1, 0x80); // any non-zero byte raises
    lines.write(IRQ_LINE_COUNT - 1, 1, 1);
    assertEquals(List.of("10=true", "10=false", "0=true", "23=true"), irqs);
    assertEquals(0, lines.read(10, 1));
  }

  @Test
  void irqLinePortsTakeOnlyBytes() {
    dev.irqLines().write(4, 2, 1);
    dev.irqLines().write(4, 4, 1);
    dev.irqLines().write(IRQ_LINE_COUNT, 1, 1);
    assertEquals(List.of(), irqs);
    assertEquals(3, dev.ignoredAccesses());
  }

  @Test
  void iomemIsPlainLittleEndianMemory() {
    BusDevice mem = dev.iomem();
    mem.write(0x100, 8, 0x1122_3344_5566_7788L);
    assertEquals(0x88, mem.read(0x100, 1));
    assertEquals(0x5566_7788L, mem.read(0x100, 4));
    assertEquals(0x3344, mem.read(0x104, 2));
    assertEquals(0x1122_3344_5566_7788L, mem.read(0x100, 8));
    mem.write(0x101, 1, 0xff);
    assertEquals(0x5566_ff88L, mem.read(0x100, 4));
    assertEquals(0, mem.read(IOMEM_SIZE - 8, 8));
  }

  @Test
  void iomemPastItsEndReadsAllOnesAndDropsWrites() {
    BusDevice mem = dev.iomem();
    mem.write(IOMEM_SIZE - 2, 4, 0x4433_2211L);
    assertEquals(0xffff_2211L, mem.read(IOMEM_SIZE - 2, 4));
  }

  @Test
  void portsPastTheWindowReadAllOnes() {
    assertEquals(0xff, dev.read(PIO_SIZE, 1));
  }
}
