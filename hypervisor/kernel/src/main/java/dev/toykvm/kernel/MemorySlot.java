package dev.toykvm.kernel;

import java.lang.foreign.MemorySegment;

/** One memory slot as the kernel side keeps it (validated). */
record MemorySlot(int id, int flags, long guestPhysAddr, long size, MemorySegment memory) {
  long end() {
    return guestPhysAddr + size;
  }

  boolean readOnly() {
    return (flags & dev.toykvm.kvm.KvmConstants.KVM_MEM_READONLY) != 0;
  }

  boolean overlaps(long start, long length) {
    return start < end() && guestPhysAddr < start + length;
  }
}
