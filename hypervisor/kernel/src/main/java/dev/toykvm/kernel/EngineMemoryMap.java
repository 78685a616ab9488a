package dev.toykvm.kernel;

import dev.toykvm.kernel.unicorn.Uc;
import dev.toykvm.kernel.unicorn.UcEngine;
import java.util.ArrayList;
import java.util.List;

/**
 * What one vCPU's engine has mapped: every memory slot over the VMM's own memory (no copy), and
 * MMIO over every gap below the physical address limit, with the memory hook that announces whole
 * accesses there (see {@link MmioPieces}). Rebuilt whole when the VM's slots change.
 */
final class EngineMemoryMap {
  private final List<long[]> mapped = new ArrayList<>();
  private final List<Long> hooks = new ArrayList<>();

  /** Replaces the engine's mappings with {@code slots} (sorted by address, not overlapping). */
  void sync(UcEngine uc, List<MemorySlot> slots) {
    for (Long hook : hooks) {
      uc.removeHook(hook);
    }
    hooks.clear();
    for (long[] region : mapped) {
      uc.unmap(region[0], region[1]);
    }
    mapped.clear();
    long next = 0;
    for (MemorySlot slot : slots) {
      if (slot.guestPhysAddr() > next) {
        mapMmio(uc, next, slot.guestPhysAddr() - next);
      }
      int perms = slot.readOnly() ? Uc.PROT_READ | Uc.PROT_EXEC : Uc.PROT_ALL;
      uc.mapPtr(slot.guestPhysAddr(), slot.size(), perms, slot.memory());
      mapped.add(new long[] {slot.guestPhysAddr(), slot.size()});
      next = slot.end();
    }
    if (next < MemorySlots.PHYS_LIMIT) {
      mapMmio(uc, next, MemorySlots.PHYS_LIMIT - next);
    }
  }

  /** Forgets the mappings without undoing them: the engine they were made in is gone. */
  void forget() {
    hooks.clear();
    mapped.clear();
  }

  private void mapMmio(UcEngine uc, long start, long size) {
    uc.mapMmio(start, size);
    mapped.add(new long[] {start, size});
    hooks.add(uc.hookMmioAccesses(start, start + size - 1));
  }
}
