package dev.toykvm.kvm;

/**
 * A failed ioctl: the errno the kernel side returned, the ioctl's name and why.
 *
 * <p>Unchecked, like {@link java.io.UncheckedIOException}: a VMM usually cannot recover from a
 * rejected ioctl, and the errno says what was wrong with the argument.
 */
public final class KvmException extends RuntimeException {
  private final Errno errno;
  private final String ioctl;

  /**
   * @param ioctl the ioctl's name as in {@code linux/kvm.h}, e.g. {@code
   *     KVM_SET_USER_MEMORY_REGION}
   * @param errno what the kernel returned
   * @param detail why, in words a user can act on
   */
  public KvmException(String ioctl, Errno errno, String detail) {
    super(ioctl + ": " + errno.name() + " (" + errno.description() + "): " + detail);
    this.ioctl = ioctl;
    this.errno = errno;
  }

  /** The errno of the failed call. */
  public Errno errno() {
    return errno;
  }

  /** The name of the failed ioctl. */
  public String ioctl() {
    return ioctl;
  }
}
