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
    List<MemorySlot> slots = List.of(slot(0, 0xa0000), slot(0x100000, 0x7f00000));
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
    assertTrue(regions.stream().filter(r -> !r.isMmio()).count() == 2);
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
