package dev.toykvm.kernel;

import dev.toykvm.kernel.unicorn.Uc;
import dev.toykvm.kernel.unicorn.UcEngine;
import java.util.ArrayList;
import java.util.List;

/**
 * What one vCPU's engine has mapped: every memory slot over the VMM's own memory (no copy), and
 * MMIO over every gap below the physical address limit, with the memory hook that announces whole
 * accesses there (see {@link MmioPieces}).
 *
 * <p>A slot change only touches what it changes. libunicorn 2.0.1 unmaps in time proportional to
 * the size unmapped (measured here: 7 ms for 256 MiB, 0.9 s for 64 GiB; mapping is instant), so the
 * gaps are mapped in pieces that never cross a {@link #CHUNK}-aligned boundary (a {@link
 * #HIGH_CHUNK}-aligned one above 4 GiB), and {@link #sync} unmaps and maps only the pieces that
 * differ from what is mapped: adding a slot inside a large gap costs one or two pieces, not the
 * whole gap. The hooks, which are cheap to add and remove, are made again for each gap as a whole
 * (one hook per gap keeps the per-access hook list short).
 */
final class EngineMemoryMap {
  /**
   * The largest MMIO piece below 4 GiB, where slots come and go (RAM, ROMs, PCI holes, firmware
   * shadowing), and the alignment of piece boundaries there.
   */
  static final long CHUNK = 256L << 20;

  /** The same above 4 GiB, where little changes: fewer pieces make a new engine cheaper. */
  static final long HIGH_CHUNK = 4L << 30;

  /** One mapping of the engine: MMIO, or a slot's memory at its address and permissions. */
  record Region(long start, long size, int perms, long memoryAddress, MemorySlot slot) {
    boolean isMmio() {
      return slot == null;
    }

    static Region mmio(long start, long size) {
      return new Region(start, size, 0, 0, null);
    }

    /** Same mapping: the same range, kind, permissions and backing memory. */
    boolean sameMapping(Region o) {
      return start == o.start
          && size == o.size
          && perms == o.perms
          && memoryAddress == o.memoryAddress
          && isMmio() == o.isMmio();
    }
  }

  private final List<Region> mapped = new ArrayList<>();
  private final List<Long> hooks = new ArrayList<>();

  /** Makes the engine's mappings those of {@code slots} (sorted by address, not overlapping). */
  void sync(UcEngine uc, List<MemorySlot> slots) {
    List<Region> wanted = layout(slots);
    for (Long hook : hooks) {
      uc.removeHook(hook);
    }
    hooks.clear();
    List<Region> keep = new ArrayList<>();
    for (Region r : mapped) {
      if (contains(wanted, r)) {
        keep.add(r);
      } else {
        uc.unmap(r.start(), r.size());
      }
    }
    mapped.clear();
    mapped.addAll(keep);
    for (Region r : wanted) {
      if (contains(keep, r)) {
        continue;
      }
      if (r.isMmio()) {
        uc.mapMmio(r.start(), r.size());
      } else {
        uc.mapPtr(r.start(), r.size(), r.perms(), r.slot().memory());
      }
      mapped.add(r);
    }
    for (long[] gap : gaps(slots)) {
      hooks.add(uc.hookMmioAccesses(gap[0], gap[0] + gap[1] - 1));
    }
  }

  /** Forgets the mappings without undoing them: the engine they were made in is gone. */
  void forget() {
    hooks.clear();
    mapped.clear();
  }

  /** What is mapped now, for tests. */
  List<Region> mapped() {
    return List.copyOf(mapped);
  }

  /** The regions that map {@code slots}: each slot whole, and each gap in aligned pieces. */
  static List<Region> layout(List<MemorySlot> slots) {
    List<Region> out = new ArrayList<>();
    long next = 0;
    for (MemorySlot slot : slots) {
      mmioPieces(next, slot.guestPhysAddr(), out);
      int perms = slot.readOnly() ? Uc.PROT_READ | Uc.PROT_EXEC : Uc.PROT_ALL;
      out.add(new Region(slot.guestPhysAddr(), slot.size(), perms, slot.memory().address(), slot));
      next = slot.end();
    }
    mmioPieces(next, MemorySlots.PHYS_LIMIT, out);
    return out;
  }

  private static void mmioPieces(long from, long to, List<Region> out) {
    long at = from;
    while (at < to) {
      long chunk = at < HIGH_CHUNK ? CHUNK : HIGH_CHUNK;
      long end = Math.min(to, (at / chunk + 1) * chunk);
      out.add(Region.mmio(at, end - at));
      at = end;
    }
  }

  /** The gaps between slots below the physical limit, as {start, size}. */
  private static List<long[]> gaps(List<MemorySlot> slots) {
    List<long[]> out = new ArrayList<>();
    long next = 0;
    for (MemorySlot slot : slots) {
      if (slot.guestPhysAddr() > next) {
        out.add(new long[] {next, slot.guestPhysAddr() - next});
      }
      next = slot.end();
    }
    if (next < MemorySlots.PHYS_LIMIT) {
      out.add(new long[] {next, MemorySlots.PHYS_LIMIT - next});
    }
    return out;
  }

  private static boolean contains(List<Region> list, Region r) {
    for (Region o : list) {
      if (o.sameMapping(r)) {
        return true;
      }
    }
    return false;
  }
}
