package dev.toykvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RamSplitTest {
  private static final long K = 1024;
  private static final long M = K * K;
  private static final long G = K * M;

  @ParameterizedTest(name = "{0} bytes: {1} below, {2} above, top {3}")
  @CsvSource({
    // memory, below 4 GiB, above 4 GiB, top of RAM (and of the memory file)
    "2097152, 2097152, 0, 2097152", // 2 MiB, the least
    "134217728, 134217728, 0, 134217728", // 128 MiB
    "3221221376, 3221221376, 0, 3221221376", // 3 GiB - 4 KiB
    "3221225472, 3221225472, 0, 3221225472", // 3 GiB: all below, as today
    "3221229568, 3221225472, 4096, 4294971392", // 3 GiB + 4 KiB: one page at 4 GiB
    "3758096384, 3221225472, 536870912, 4831838208", // 3.5 GiB: QEMU's threshold, the same split
    "5368709120, 3221225472, 2147483648, 6442450944", // 5 GiB
    "5242880000, 3221225472, 2021654528, 6316621824", // 5000 MiB
    "34359738368, 3221225472, 31138512896, 35433480192", // 32 GiB, the most: RAM ends at 33 GiB
  })
  void splitsAsQemusPcAboveItsThreshold(long memory, long below, long above, long top) {
    RamSplit s = RamSplit.of(memory);
    assertEquals(new RamSplit(below, above), s);
    assertEquals(memory, s.total());
    assertEquals(top, s.top());
  }

  @Property
  void everySizeKeepsItsBytesAndNeverPutsRamInTheHole(
      @ForAll @LongRange(min = 1, max = 8 * 1024 * 1024) long pages) {
    long memory = pages * 4096;
    RamSplit s = RamSplit.of(memory);
    assertEquals(memory, s.below4g() + s.above4g());
    assertEquals(true, s.below4g() <= 3 * G);
    assertEquals(s.above4g() > 0, memory > 3 * G);
    assertEquals(s.above4g() > 0 ? 4 * G + s.above4g() : memory, s.top());
  }

  @org.junit.jupiter.api.Test
  void impossibleSplitsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> RamSplit.of(0));
    assertThrows(IllegalArgumentException.class, () -> new RamSplit(2 * G, 1 * G));
    assertThrows(IllegalArgumentException.class, () -> new RamSplit(4 * G, 0));
    assertThrows(IllegalArgumentException.class, () -> new RamSplit(3 * G, -1));
  }
}
