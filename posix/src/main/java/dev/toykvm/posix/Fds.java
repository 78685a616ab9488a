package dev.toykvm.posix;

import static dev.toykvm.posix.Errnos.EBADF;
import static dev.toykvm.posix.Errnos.EINTR;
import static dev.toykvm.posix.Libc.O_CLOEXEC;
import static dev.toykvm.posix.Libc.errno;
import static dev.toykvm.posix.Libc.errnoCall;
import static dev.toykvm.posix.Libc.errnoSegment;
import static dev.toykvm.posix.Libc.rethrow;
import static dev.toykvm.posix.Libc.variadicErrnoCall;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * File descriptors: pipes, {@code read}, {@code write}, {@code close}, duplicating and reopening.
 *
 * <p>{@link #read} and {@link #write} retry on {@code EINTR}, return short counts as they are, and
 * allocate nothing: the caller passes a reusable buffer. All fds this class creates are
 * close-on-exec. {@code read} and {@code write} block the calling carrier thread: use platform
 * threads for them, not virtual threads.
 */
public final class Fds {
  private Fds() {}

  /** {@code O_WRONLY}, for {@link #reopen}. */
  public static final int O_WRONLY = 1;

  /** {@code O_NONBLOCK}, for {@link #reopen}. */
  public static final int O_NONBLOCK = 0x800;

  private static final int F_GETFD = 1;
  private static final int F_DUPFD_CLOEXEC = 1030;

  private static final MethodHandle PIPE2 = errnoCall("pipe2", JAVA_INT, ADDRESS, JAVA_INT);
  private static final MethodHandle READ =
      errnoCall("read", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
  private static final MethodHandle WRITE =
      errnoCall("write", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
  private static final MethodHandle CLOSE = errnoCall("close", JAVA_INT, JAVA_INT);
  private static final MethodHandle OPEN =
      variadicErrnoCall("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), 2);
  private static final MethodHandle FCNTL =
      variadicErrnoCall("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), 2);
  private static final MethodHandle FCNTL_INT =
      variadicErrnoCall("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), 2);

  /**
   * {@code pipe2(fds, O_CLOEXEC)}.
   *
   * @throws PosixException if the process is out of fds ({@code EMFILE}, {@code ENFILE})
   */
  public static Pipe pipe2() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment fds = arena.allocate(JAVA_INT, 2);
      MemorySegment errno = errnoSegment();
      int r;
      try {
        r = (int) PIPE2.invokeExact(errno, fds, O_CLOEXEC);
      } catch (Throwable t) {
        throw rethrow(t);
      }
      if (r < 0) {
        throw new PosixException("pipe2(O_CLOEXEC)", errno(errno));
      }
      return new Pipe(fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1));
    }
  }

  /**
   * {@code read(fd, buf, len)}, retried on {@code EINTR}. Allocation-free.
   *
   * @return the number of bytes read, possibly fewer than {@code len}; 0 means end of file
   * @throws IllegalArgumentException if {@code len} is negative or larger than {@code buf}
   * @throws PosixException for any other error ({@code EBADF}, {@code EAGAIN}, ...)
   */
  public static long read(int fd, MemorySegment buf, long len) {
    return transfer(READ, "read", fd, buf, len);
  }

  /**
   * {@code write(fd, buf, len)}, retried on {@code EINTR}. Allocation-free.
   *
   * @return the number of bytes written, possibly fewer than {@code len}
   * @throws IllegalArgumentException if {@code len} is negative or larger than {@code buf}
   * @throws PosixException for any other error; {@code EPIPE} when nobody reads the pipe any more
   *     (the JVM ignores SIGPIPE, so this is an errno, not a signal)
   */
  public static long write(int fd, MemorySegment buf, long len) {
    return transfer(WRITE, "write", fd, buf, len);
  }

  /** {@code read} or {@code write} (same signature), retried on {@code EINTR}. */
  private static long transfer(
      MethodHandle call, String name, int fd, MemorySegment buf, long len) {
    checkLength(buf, len);
    MemorySegment errno = errnoSegment();
    while (true) {
      long r;
      try {
        r = (long) call.invokeExact(errno, fd, buf, len);
      } catch (Throwable t) {
        throw rethrow(t);
      }
      if (r >= 0) {
        return r;
      }
      int e = errno(errno);
      if (e != EINTR) {
        throw new PosixException(name + "(" + fd + ")", e);
      }
    }
  }

  /**
   * Reads until {@code len} bytes have arrived or the file ends. Allocation-free.
   *
   * @return {@code len}, or fewer if the file ended first (0: it ended before the first byte)
   * @throws PosixException as {@link #read}
   */
  public static long readFully(int fd, MemorySegment buf, long len) {
    checkLength(buf, len);
    long done = 0;
    while (done < len) {
      long n = read(fd, done == 0 ? buf : buf.asSlice(done), len - done);
      if (n == 0) {
        break;
      }
      done += n;
    }
    return done;
  }

  /**
   * Writes all {@code len} bytes, looping over short writes.
   *
   * @throws PosixException as {@link #write}
   */
  public static void writeFully(int fd, MemorySegment buf, long len) {
    checkLength(buf, len);
    long done = 0;
    while (done < len) {
      done += write(fd, done == 0 ? buf : buf.asSlice(done), len - done);
    }
  }

  /**
   * {@code close(fd)}. {@code EINTR} is not retried: on Linux the fd is closed anyway.
   *
   * @throws PosixException with {@code EBADF} if {@code fd} is not open
   */
  public static void close(int fd) {
    MemorySegment errno = errnoSegment();
    int r;
    try {
      r = (int) CLOSE.invokeExact(errno, fd);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (r < 0) {
      int e = errno(errno);
      if (e != EINTR) {
        throw new PosixException("close(" + fd + ")", e);
      }
    }
  }

  /**
   * {@code fcntl(fd, F_DUPFD_CLOEXEC, 3)}: a new fd for the same open file (the kernel side's own
   * reference, as KVM takes one with {@code fget}: it stays valid when the caller closes {@code
   * fd}).
   *
   * @throws PosixException with {@code EBADF} if {@code fd} is not open
   */
  public static int dup(int fd) {
    MemorySegment errno = errnoSegment();
    int r;
    try {
      r = (int) FCNTL_INT.invokeExact(errno, fd, F_DUPFD_CLOEXEC, 3);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (r < 0) {
      throw new PosixException("fcntl(" + fd + ", F_DUPFD_CLOEXEC)", errno(errno));
    }
    return r;
  }

  /**
   * Opens the file behind {@code fd} again through {@code /proc/self/fd}: for a pipe, a new open
   * file description with its own flags (say {@code O_WRONLY | O_NONBLOCK}) on the same pipe,
   * close-on-exec. Unlike {@link #dup}, changing its flags does not change {@code fd}'s.
   *
   * @throws PosixException if it cannot be opened ({@code ENOENT} when {@code fd} is not open)
   */
  public static int reopen(int fd, int flags) {
    String path = "/proc/self/fd/" + fd;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment errno = errnoSegment();
      int r;
      try {
        r = (int) OPEN.invokeExact(errno, arena.allocateFrom(path), flags | O_CLOEXEC);
      } catch (Throwable t) {
        throw rethrow(t);
      }
      if (r < 0) {
        throw new PosixException("open(" + path + ")", errno(errno));
      }
      return r;
    }
  }

  /** {@code O_RDWR}, for {@link #open}. */
  public static final int O_RDWR = 2;

  /**
   * {@code open(path, flags | O_CLOEXEC)}: a plain fd for a file, e.g. to hand to a child process
   * as an inherited fd (the child's copy, made by the spawn, is not close-on-exec).
   *
   * @throws PosixException if it cannot be opened ({@code ENOENT}, {@code EACCES}, ...)
   */
  public static int open(String path, int flags) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment errno = errnoSegment();
      int r;
      try {
        r = (int) OPEN.invokeExact(errno, arena.allocateFrom(path), flags | O_CLOEXEC);
      } catch (Throwable t) {
        throw rethrow(t);
      }
      if (r < 0) {
        throw new PosixException("open(" + path + ")", errno(errno));
      }
      return r;
    }
  }

  /** Whether {@code fd} is open in this process: {@code fcntl(fd, F_GETFD)} fails with EBADF. */
  public static boolean isOpen(int fd) {
    MemorySegment errno = errnoSegment();
    int r;
    try {
      r = (int) FCNTL.invokeExact(errno, fd, F_GETFD);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (r >= 0) {
      return true;
    }
    int e = errno(errno);
    if (e == EBADF) {
      return false;
    }
    throw new PosixException("fcntl(" + fd + ", F_GETFD)", e);
  }

  private static void checkLength(MemorySegment buf, long len) {
    if (len < 0 || len > buf.byteSize()) {
      throw new IllegalArgumentException(
          "cannot transfer " + len + " bytes with a buffer of " + buf.byteSize());
    }
  }
}
