package dev.toykvm.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;

class EngineMemoryMapTest {
  private static MemorySlot slot(long at, long size) {
    MemorySegment m = Arena.global().allocate(4096, 4096);
    return new MemorySlot(0, 0, at, size, m, m);
  }

  @Test
  void theLayoutCoversThePhysicalSpaceOnceWithAlignedMmioPieces() {
    coversOnce(List.of(slot(0, 0xa0000), slot(0x100000, 0x7f00000)));
  }

  @Test
  void ramAbove4GiBIsASlotLikeAnyOther() {
    // a 32 GiB PC: 3 GiB below the PCI hole, 29 GiB from 4 GiB (to 33 GiB)
    List<EngineMemoryMap.Region> regions =
        coversOnce(
            List.of(
                slot(0, 0xa0000),
                slot(0x100000, (3L << 30) - 0x100000),
                slot(4L << 30, 29L << 30)));
    EngineMemoryMap.Region high =
        regions.stream().filter(r -> !r.isMmio() && r.start() == 4L << 30).findFirst().get();
    assertEquals(29L << 30, high.size());
    // the hole is MMIO in 256 MiB pieces; above the RAM, 4 GiB-aligned pieces to 64 GiB
    assertEquals(
        4,
        regions.stream()
            .filter(r -> r.isMmio() && r.start() >= 3L << 30 && r.start() < 4L << 30)
            .count());
    assertEquals(
        List.of(33L << 30, 36L << 30, 40L << 30),
        regions.stream()
            .filter(r -> r.isMmio() && r.start() >= 33L << 30)
            .map(EngineMemoryMap.Region::start)
            .toList()
            .subList(0, 3));
  }

  private static List<EngineMemoryMap.Region> coversOnce(List<MemorySlot> slots) {
    List<EngineMemoryMap.Region> regions = EngineMemoryMap.layout(slots);
    long next = 0;
    for (EngineMemoryMap.Region r : regions) {
      assertEquals(next, r.start(), "no gap or overlap at 0x" + Long.toHexString(next));
      if (r.isMmio()) {
        long chunk = r.start() < (4L << 30) ? EngineMemoryMap.CHUNK : EngineMemoryMap.HIGH_CHUNK;
        assertEquals(
            r.start() / chunk, (r.start() + r.size() - 1) / chunk, "a piece within one chunk");
      }
      next = r.start() + r.size();
    }
    assertEquals(MemorySlots.PHYS_LIMIT, next);
    assertTrue(regions.stream().filter(r -> !r.isMmio()).count() == slots.size());
    return regions;
  }

  @Test
  void aNewSlotChangesOnlyThePiecesItTouches() {
    MemorySlot low = slot(0, 0x100000);
    List<EngineMemoryMap.Region> before = EngineMemoryMap.layout(List.of(low));
    List<EngineMemoryMap.Region> after =
        EngineMemoryMap.layout(List.of(low, slot(0xfee00000L, 0x1000)));
    long changed = before.stream().filter(r -> after.stream().noneMatch(r::sameMapping)).count();
    // The 256 MiB piece [0xf0000000, 0x100000000) is replaced by three; nothing else moves.
    assertEquals(1, changed);
  }
}
