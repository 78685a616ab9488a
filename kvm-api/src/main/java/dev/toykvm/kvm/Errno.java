package dev.toykvm.kvm;

/**
 * The Linux errno values that the toykvm "kernel" returns, with their numbers and standard
 * meanings, so that a failed ioctl reads exactly as it would from {@code /dev/kvm}.
 */
public enum Errno {
  EPERM(1, "Operation not permitted"),
  ENOENT(2, "No such file or directory"),
  EINTR(4, "Interrupted system call"),
  EIO(5, "Input/output error"),
  ENXIO(6, "No such device or address"),
  E2BIG(7, "Argument list too long"),
  EBADF(9, "Bad file descriptor"),
  EAGAIN(11, "Resource temporarily unavailable"),
  ENOMEM(12, "Cannot allocate memory"),
  EFAULT(14, "Bad address"),
  EBUSY(16, "Device or resource busy"),
  EEXIST(17, "File exists"),
  ENODEV(19, "No such device"),
  EINVAL(22, "Invalid argument"),
  EMFILE(24, "Too many open files"),
  ENOSPC(28, "No space left on device"),
  ENOSYS(38, "Function not implemented"),
  EOPNOTSUPP(95, "Operation not supported");

  private final int number;
  private final String description;

  Errno(int number, String description) {
    this.number = number;
    this.description = description;
  }

  /** The errno number as Linux defines it on x86-64. */
  public int number() {
    return number;
  }

  /** The text {@code strerror(3)} gives for it. */
  public String description() {
    return description;
  }
}
