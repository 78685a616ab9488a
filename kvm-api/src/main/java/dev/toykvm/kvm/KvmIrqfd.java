package dev.toykvm.kvm;

/**
 * {@code struct kvm_irqfd}: an eventfd that raises GSI {@code gsi} in the kernel side when it is
 * signalled, without the VMM ({@link VmFd#irqfd}).
 *
 * @param fd the eventfd a device signals
 * @param gsi the GSI it raises, through the VM's routing table
 * @param flags {@link KvmConstants#KVM_IRQFD_FLAG_DEASSIGN}, {@link
 *     KvmConstants#KVM_IRQFD_FLAG_RESAMPLE}
 * @param resamplefd with {@code KVM_IRQFD_FLAG_RESAMPLE}: the eventfd the kernel side signals when
 *     the guest acknowledges the interrupt (its EOI) and the line has been lowered
 */
public record KvmIrqfd(int fd, int gsi, int flags, int resamplefd) {

  /**
   * Every field zero, as {@code struct kvm_irqfd irqfd = {0}} in C; set the fields with the {@code
   * with*} methods.
   */
  public static final KvmIrqfd ZERO = new KvmIrqfd(0, 0, 0, 0);

  /** A copy with another {@code fd}: sets {@code fd}. */
  public KvmIrqfd withFd(int value) {
    return new KvmIrqfd(value, gsi, flags, resamplefd);
  }

  /** A copy with another {@code gsi}: sets {@code gsi}. */
  public KvmIrqfd withGsi(int value) {
    return new KvmIrqfd(fd, value, flags, resamplefd);
  }

  /** A copy with another {@code flags}: sets {@code flags}. */
  public KvmIrqfd withFlags(int value) {
    return new KvmIrqfd(fd, gsi, value, resamplefd);
  }

  /** A copy with another {@code resamplefd}: sets {@code resamplefd}. */
  public KvmIrqfd withResamplefd(int value) {
    return new KvmIrqfd(fd, gsi, flags, value);
  }

  /**
   * A copy that resamples through {@code resamplefd}: sets {@link
   * KvmConstants#KVM_IRQFD_FLAG_RESAMPLE} and {@code resamplefd}.
   */
  public KvmIrqfd withResample(int resamplefd) {
    return new KvmIrqfd(fd, gsi, flags | KvmConstants.KVM_IRQFD_FLAG_RESAMPLE, resamplefd);
  }

  /** The same registration with {@link KvmConstants#KVM_IRQFD_FLAG_DEASSIGN} set, to remove it. */
  public KvmIrqfd deassign() {
    return new KvmIrqfd(fd, gsi, flags | KvmConstants.KVM_IRQFD_FLAG_DEASSIGN, resamplefd);
  }
}
