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
    int slot, int flags, long guestPhysAddr, long memorySize, MemorySegment userspaceAddr) {}
