package dev.toykvm.kvm;

/**
 * {@code struct kvm_ioeventfd}: a guest write to {@code addr} of {@code len} bytes (optionally only
 * with the value {@code datamatch}) signals the eventfd {@code fd} in the kernel side, and the
 * guest goes on without an exit.
 *
 * @param datamatch the value to match, with {@link KvmConstants#KVM_IOEVENTFD_FLAG_DATAMATCH}
 * @param addr guest-physical address, or port with {@link KvmConstants#KVM_IOEVENTFD_FLAG_PIO}
 * @param len 1, 2, 4 or 8; 0 matches a write of any length (MMIO only)
 * @param fd an eventfd
 * @param flags {@code KVM_IOEVENTFD_FLAG_*}
 */
public record KvmIoeventfd(long datamatch, long addr, int len, int fd, int flags) {

  /** The same registration with {@code KVM_IOEVENTFD_FLAG_DEASSIGN} set, to remove it. */
  public KvmIoeventfd deassign() {
    return new KvmIoeventfd(
        datamatch, addr, len, fd, flags | KvmConstants.KVM_IOEVENTFD_FLAG_DEASSIGN);
  }
}
