package dev.toykvm.kvm;

import java.lang.foreign.MemorySegment;

/**
 * {@code struct kvm_userspace_memory_region}: guest-physical memory backed by the VMM's memory.
 *
 * <p>{@code userspaceAddr} is the VMM's mapping of the backing memory, as {@code userspace_addr} is
 * in C; the kernel side uses it directly (no copy). For other processes to share guest memory
 * (device DMA) it must be a shared mapping of a file, for example from {@code /dev/shm}. A {@code
 * memorySize} of 0 deletes the slot.
 *
 * @param slot slot id, {@code 0 <= slot < KVM_CAP_NR_MEMSLOTS}
 * @param flags {@link KvmConstants#KVM_MEM_READONLY} or 0
 * @param guestPhysAddr page-aligned guest-physical start
 * @param memorySize page-aligned size in bytes; 0 deletes the slot
 * @param userspaceAddr the VMM's mapping, page-aligned, at least {@code memorySize} bytes; may be
 *     {@link MemorySegment#NULL} when deleting
 */
public record KvmUserspaceMemoryRegion(
    int slot, int flags, long guestPhysAddr, long memorySize, MemorySegment userspaceAddr) {

  /**
   * Every field zero and {@code userspaceAddr} {@link MemorySegment#NULL}, as {@code struct
   * kvm_userspace_memory_region region = {0}} in C; set the fields with the {@code with*} methods.
   */
  public static final KvmUserspaceMemoryRegion ZERO =
      new KvmUserspaceMemoryRegion(0, 0, 0, 0, MemorySegment.NULL);

  /** A copy with another {@code slot}: sets {@code slot}. */
  public KvmUserspaceMemoryRegion withSlot(int value) {
    return new KvmUserspaceMemoryRegion(value, flags, guestPhysAddr, memorySize, userspaceAddr);
  }

  /** A copy with another {@code flags}: sets {@code flags}. */
  public KvmUserspaceMemoryRegion withFlags(int value) {
    return new KvmUserspaceMemoryRegion(slot, value, guestPhysAddr, memorySize, userspaceAddr);
  }

  /** A copy with another {@code guestPhysAddr}: sets {@code guest_phys_addr}. */
  public KvmUserspaceMemoryRegion withGuestPhysAddr(long value) {
    return new KvmUserspaceMemoryRegion(slot, flags, value, memorySize, userspaceAddr);
  }

  /** A copy with another {@code memorySize}: sets {@code memory_size}. */
  public KvmUserspaceMemoryRegion withMemorySize(long value) {
    return new KvmUserspaceMemoryRegion(slot, flags, guestPhysAddr, value, userspaceAddr);
  }

  /** A copy with another {@code userspaceAddr}: sets {@code userspace_addr}. */
  public KvmUserspaceMemoryRegion withUserspaceAddr(MemorySegment value) {
    return new KvmUserspaceMemoryRegion(slot, flags, guestPhysAddr, memorySize, value);
  }
}
