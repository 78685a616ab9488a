package dev.toykvm.kernel;

import java.lang.foreign.MemorySegment;

/**
 * One memory slot as the kernel side keeps it (validated).
 *
 * @param memory the slot's memory as the engine uses it: the VMM's address, with the global scope
 *     (usable from the engine thread whatever arena it came from; see {@link MemorySlots})
 * @param owner the segment the VMM gave, whose scope says whether the memory is still alive and
 *     which threads may touch it
 */
record MemorySlot(
    int id, int flags, long guestPhysAddr, long size, MemorySegment memory, MemorySegment owner) {
  long end() {
    return guestPhysAddr + size;
  }

  boolean readOnly() {
    return (flags & dev.toykvm.kvm.KvmConstants.KVM_MEM_READONLY) != 0;
  }

  boolean overlaps(long start, long length) {
    return start < end() && guestPhysAddr < start + length;
  }

  /** Whether the VMM's memory still exists (its arena is not closed). */
  boolean alive() {
    return owner.scope().isAlive();
  }
}
