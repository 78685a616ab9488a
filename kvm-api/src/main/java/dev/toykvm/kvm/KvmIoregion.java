package dev.toykvm.kvm;

/**
 * {@code struct kvm_ioregion} (RFC v3 of {@code KVM_SET_IOREGIONFD}, 2021): a guest-physical MMIO
 * range or a PIO port range whose accesses the kernel side sends straight to a device process over
 * file descriptors, without a trip through the VMM.
 *
 * <p>Each access becomes a 32-byte command written to {@code writeFd}; a read (and a write, unless
 * the region has {@link KvmConstants#KVM_IOREGION_POSTED_WRITES}) waits for a 32-byte response read
 * from {@code readFd}. The commands carry {@code offset} (from {@code guestPaddr}) and {@code
 * userData} unchanged.
 *
 * @param guestPaddr first guest-physical address (or port, with {@code KVM_IOREGION_PIO})
 * @param memorySize length in bytes; 0 only with posted writes (a "fast MMIO" doorbell, whose
 *     accesses of any size match)
 * @param userData copied into every command
 * @param readFd the fd responses are read from (ignored for zero-size regions)
 * @param writeFd the fd commands are written to
 * @param flags {@code KVM_IOREGION_PIO}, {@code KVM_IOREGION_POSTED_WRITES}, {@code
 *     KVM_IOREGION_DEASSIGN}
 */
public record KvmIoregion(
    long guestPaddr, long memorySize, long userData, int readFd, int writeFd, int flags) {

  /**
   * Every field zero, as {@code struct kvm_ioregion region = {0}} in C; set the fields with the
   * {@code with*} methods. (Its fds are 0, standard input: set both before use.)
   */
  public static final KvmIoregion ZERO = new KvmIoregion(0, 0, 0, 0, 0, 0);

  /** A copy with another {@code guestPaddr}: sets {@code guest_paddr}. */
  public KvmIoregion withGuestPaddr(long value) {
    return new KvmIoregion(value, memorySize, userData, readFd, writeFd, flags);
  }

  /** A copy with another {@code memorySize}: sets {@code memory_size}. */
  public KvmIoregion withMemorySize(long value) {
    return new KvmIoregion(guestPaddr, value, userData, readFd, writeFd, flags);
  }

  /** A copy with another {@code userData}: sets {@code user_data}. */
  public KvmIoregion withUserData(long value) {
    return new KvmIoregion(guestPaddr, memorySize, value, readFd, writeFd, flags);
  }

  /** A copy with another {@code readFd}: sets {@code rfd}. */
  public KvmIoregion withReadFd(int value) {
    return new KvmIoregion(guestPaddr, memorySize, userData, value, writeFd, flags);
  }

  /** A copy with another {@code writeFd}: sets {@code wfd}. */
  public KvmIoregion withWriteFd(int value) {
    return new KvmIoregion(guestPaddr, memorySize, userData, readFd, value, flags);
  }

  /** A copy with another {@code flags}: sets {@code flags}. */
  public KvmIoregion withFlags(int value) {
    return new KvmIoregion(guestPaddr, memorySize, userData, readFd, writeFd, value);
  }

  /** The same region with {@code KVM_IOREGION_DEASSIGN} set, to remove it. */
  public KvmIoregion deassign() {
    return new KvmIoregion(
        guestPaddr,
        memorySize,
        userData,
        readFd,
        writeFd,
        flags | KvmConstants.KVM_IOREGION_DEASSIGN);
  }
}
