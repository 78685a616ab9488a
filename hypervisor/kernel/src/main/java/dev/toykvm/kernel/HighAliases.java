package dev.toykvm.kernel;

import dev.toykvm.kernel.unicorn.Uc;
import dev.toykvm.kernel.unicorn.UcEngine;
import dev.toykvm.kernel.x86.GuestCpu;
import dev.toykvm.kernel.x86.Linear;
import dev.toykvm.kvm.KvmSregs;
import java.util.ArrayList;
import java.util.List;

/**
 * Guest code and data at linear addresses above the physical address space (a 64-bit kernel's
 * {@code 0xffffffff8...} mappings). libunicorn 2.0.1 checks each access against its memory map by
 * <em>linear</em> address after the page walk (measured: a store through a mapping of linear
 * 0xffffffff80020000 to RAM reaches the unmapped hook with the linear address), so such an access
 * fails although the guest's page tables map it to RAM. When the walk maps it to a RAM slot, the
 * page is given an alias of that RAM page at its linear address: the check passes, and the access
 * itself goes through QEMU's TLB to the physical page the guest mapped. Engine thread only; the
 * aliases are dropped whenever the slots change (they point into slot memory).
 */
final class HighAliases {
  /** Below this the engine's map covers every address (slots and MMIO gaps). */
  static final long PHYSICAL_LIMIT = 1L << 36;

  private static final long PAGE = 4096;
  private final List<Long> pages = new ArrayList<>();

  /** Maps an alias for an unmapped access at {@code linear}; false if it is not guest RAM. */
  boolean map(UcEngine uc, GuestCpu cpu, KvmSregs s, List<MemorySlot> slots, long linear) {
    if (Long.compareUnsigned(linear, PHYSICAL_LIMIT) < 0) {
      return false;
    }
    long phys = Linear.toPhysical(cpu, s, linear);
    if (phys < 0) {
      return false;
    }
    long page = linear & -PAGE;
    long physPage = phys & -PAGE;
    for (MemorySlot slot : slots) {
      if (physPage >= slot.guestPhysAddr() && physPage + PAGE <= slot.end()) {
        int perms = slot.readOnly() ? Uc.PROT_READ | Uc.PROT_EXEC : Uc.PROT_ALL;
        uc.mapPtr(page, PAGE, perms, slot.memory().asSlice(physPage - slot.guestPhysAddr(), PAGE));
        pages.add(page);
        return true;
      }
    }
    return false;
  }

  /** Unmaps every alias (before the slots they point into change). */
  void unmapAll(UcEngine uc) {
    for (long page : pages) {
      uc.unmap(page, PAGE);
    }
    pages.clear();
  }

  /** Forgets the aliases without undoing them: the engine they were made in is gone. */
  void forget() {
    pages.clear();
  }

  int size() {
    return pages.size();
  }
}
