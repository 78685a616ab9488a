package dev.toykvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class PcMemoryMapTest {
  @Test
  void theMapOfA128MiBPcHasItsHoles() {
    assertEquals(
        List.of(
            new E820Entry(0, 0x9fc00, E820Entry.RAM),
            new E820Entry(0x9fc00, 0x400, E820Entry.RESERVED),
            new E820Entry(0xf0000, 0x10000, E820Entry.RESERVED),
            new E820Entry(0x100000, (128L << 20) - 0x100000, E820Entry.RAM)),
        PcMemoryMap.of(128L << 20));
  }

  @Test
  void ramChecksStayInOneRange() {
    List<E820Entry> map = PcMemoryMap.of(16L << 20);
    assertTrue(PcMemoryMap.isRam(map, 0, 0x9fc00));
    assertFalse(PcMemoryMap.isRam(map, 0x9f000, 0xa0000), "into the EBDA");
    assertFalse(PcMemoryMap.isRam(map, 0xb8000, 0xb9000), "the VGA window");
    assertTrue(PcMemoryMap.isRam(map, 0x100000, 16L << 20));
    assertFalse(PcMemoryMap.isRam(map, 0xfff000, (16L << 20) + 1), "past the top");
    assertFalse(PcMemoryMap.isRam(map, 0x9f000, 0x101000), "across the hole");
  }

  @Test
  void theMultibootMemoryFieldsFollowTheMap() {
    List<E820Entry> map = PcMemoryMap.of(128L << 20);
    assertEquals(0x9fc00, MultibootInfo.lowerMemory(map));
    assertEquals((128L << 20) - 0x100000, MultibootInfo.upperMemory(map));
  }

  @Test
  void noRamAbove1MiBIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> PcMemoryMap.of(0x100000));
  }

  private static final long G = 1L << 30;

  @Test
  void aPcOfMoreThan3GiBHas3GiBBelowTheHoleAndTheRestFrom4GiB() {
    // QEMU's pc machine with -m 5G: below_4g_mem_size 3 GiB, above_4g_mem_size 2 GiB.
    assertEquals(
        List.of(
            new E820Entry(0, 0x9fc00, E820Entry.RAM),
            new E820Entry(0x9fc00, 0x400, E820Entry.RESERVED),
            new E820Entry(0xf0000, 0x10000, E820Entry.RESERVED),
            new E820Entry(0x100000, 3 * G - 0x100000, E820Entry.RAM),
            new E820Entry(0x1_0000_0000L, 2 * G, E820Entry.RAM)),
        PcMemoryMap.of(5 * G));
    List<E820Entry> map = PcMemoryMap.of(5 * G);
    assertTrue(PcMemoryMap.isRam(map, 4 * G, 6 * G));
    assertTrue(PcMemoryMap.isRam(map, 6 * G - 1, 6 * G), "the last byte");
    assertFalse(PcMemoryMap.isRam(map, 6 * G, 6 * G + 1), "the first byte past it");
    assertFalse(PcMemoryMap.isRam(map, 3 * G, 3 * G + 1), "the PCI hole");
    assertFalse(PcMemoryMap.isRam(map, 3 * G - 4096, 4 * G + 4096), "across the hole");
  }

  @Test
  void theBoundariesOfTheSplit() {
    List<E820Entry> at3g = PcMemoryMap.of(3 * G);
    assertEquals(4, at3g.size(), "3 GiB: all below 4 GiB, as before");
    assertEquals(3 * G, at3g.get(3).end());
    List<E820Entry> above = PcMemoryMap.of(3 * G + 4096);
    assertEquals(new E820Entry(4 * G, 4096, E820Entry.RAM), above.get(4));
    assertEquals(3 * G, above.get(3).end());
    List<E820Entry> most = PcMemoryMap.of(32 * G);
    assertEquals(new E820Entry(4 * G, 29 * G, E820Entry.RAM), most.get(4));
    List<E820Entry> odd = PcMemoryMap.of(5000L << 20);
    assertEquals(new E820Entry(4 * G, (5000L << 20) - 3 * G, E820Entry.RAM), odd.get(4));
  }

  @Test
  void multibootsMemUpperStaysBelowTheHole() {
    // QEMU's multiboot loader: mem_upper = below_4g_mem_size / 1024 - 1024 (KiB above 1 MiB).
    List<E820Entry> map = PcMemoryMap.of(5 * G);
    assertEquals(3 * G - 0x100000, MultibootInfo.upperMemory(map));
    assertEquals(0x9fc00, MultibootInfo.lowerMemory(map));
  }
}
