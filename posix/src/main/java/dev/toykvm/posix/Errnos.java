package dev.toykvm.posix;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;

/**
 * The errno values this package's callers test ({@link PosixException#errno()}), and their names
 * and descriptions as glibc gives them.
 */
public final class Errnos {
  private Errnos() {}

  // errno values (Linux, x86-64).
  public static final int EPERM = 1;
  public static final int ENOENT = 2;
  public static final int ESRCH = 3;
  public static final int EINTR = 4;
  public static final int EIO = 5;
  public static final int EBADF = 9;
  public static final int ECHILD = 10;
  public static final int EAGAIN = 11;
  public static final int EINVAL = 22;
  public static final int EPIPE = 32;

  private static final MethodHandle STRERRORNAME =
      Libc.optional("strerrorname_np", FunctionDescriptor.of(ADDRESS, JAVA_INT));
  private static final MethodHandle STRERRORDESC =
      Libc.optional("strerrordesc_np", FunctionDescriptor.of(ADDRESS, JAVA_INT));

  /** The symbolic name of an errno ({@code strerrorname_np}), e.g. {@code "EPIPE"}. */
  public static String errnoName(int errno) {
    String s = Libc.cString(STRERRORNAME, errno);
    return s != null ? s : "errno " + errno;
  }

  /** The description of an errno ({@code strerrordesc_np}), e.g. {@code "Broken pipe"}. */
  public static String strerror(int errno) {
    String s = Libc.cString(STRERRORDESC, errno);
    return s != null ? s : "unknown error";
  }
}
