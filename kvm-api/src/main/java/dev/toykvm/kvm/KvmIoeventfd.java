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

  /**
   * Every field zero, as {@code struct kvm_ioeventfd ioeventfd = {0}} in C; set the fields with the
   * {@code with*} methods.
   */
  public static final KvmIoeventfd ZERO = new KvmIoeventfd(0, 0, 0, 0, 0);

  /** A copy with another {@code datamatch}: sets {@code datamatch}. */
  public KvmIoeventfd withDatamatch(long value) {
    return new KvmIoeventfd(value, addr, len, fd, flags);
  }

  /** A copy with another {@code addr}: sets {@code addr}. */
  public KvmIoeventfd withAddr(long value) {
    return new KvmIoeventfd(datamatch, value, len, fd, flags);
  }

  /** A copy with another {@code len}: sets {@code len}. */
  public KvmIoeventfd withLen(int value) {
    return new KvmIoeventfd(datamatch, addr, value, fd, flags);
  }

  /** A copy with another {@code fd}: sets {@code fd}. */
  public KvmIoeventfd withFd(int value) {
    return new KvmIoeventfd(datamatch, addr, len, value, flags);
  }

  /** A copy with another {@code flags}: sets {@code flags}. */
  public KvmIoeventfd withFlags(int value) {
    return new KvmIoeventfd(datamatch, addr, len, fd, value);
  }

  /** The same registration with {@code KVM_IOEVENTFD_FLAG_DEASSIGN} set, to remove it. */
  public KvmIoeventfd deassign() {
    return new KvmIoeventfd(
        datamatch, addr, len, fd, flags | KvmConstants.KVM_IOEVENTFD_FLAG_DEASSIGN);
  }
}
