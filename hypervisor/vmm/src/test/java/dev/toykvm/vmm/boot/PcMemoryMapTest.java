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
}
