package dev.toykvm.posix;

import static dev.toykvm.posix.Errnos.EIO;
import static dev.toykvm.posix.Libc.O_CLOEXEC;
import static dev.toykvm.posix.Libc.errno;
import static dev.toykvm.posix.Libc.errnoCall;
import static dev.toykvm.posix.Libc.errnoSegment;
import static dev.toykvm.posix.Libc.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Eventfds: a counter in the kernel behind an fd, which a writer adds to and a reader (or {@code
 * poll}) waits on. They are what {@code KVM_IOEVENTFD} signals and what a vCPU is kicked with.
 */
public final class Eventfd {
  private Eventfd() {}

  private static final int EFD_CLOEXEC = O_CLOEXEC;

  private static final MethodHandle EVENTFD = errnoCall("eventfd", JAVA_INT, JAVA_INT, JAVA_INT);

  /** {@code preadv2(fd, iov, iovcnt, offset, flags)}. */
  private static final MethodHandle PREADV2 =
      errnoCall("preadv2", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT);

  private static final int RWF_NOWAIT = 0x8;
  private static final int EOPNOTSUPP = 95;
  private static volatile boolean noWaitUnsupported;

  /**
   * {@code eventfd(0, EFD_CLOEXEC)}: a blocking counter, starting at 0.
   *
   * @throws PosixException if the process is out of fds
   */
  public static int create() {
    MemorySegment errno = errnoSegment();
    int r;
    try {
      r = (int) EVENTFD.invokeExact(errno, 0, EFD_CLOEXEC);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (r < 0) {
      throw new PosixException("eventfd(0, EFD_CLOEXEC)", errno(errno));
    }
    return r;
  }

  /**
   * Adds 1 to an eventfd's counter (writes the 8-byte value 1), waking its readers.
   *
   * @throws PosixException as {@link Fds#write}
   */
  public static void signal(int fd) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment one = arena.allocate(JAVA_LONG);
      one.set(JAVA_LONG, 0, 1L);
      if (Fds.write(fd, one, 8) != 8) {
        throw new PosixException("write(" + fd + ") of an eventfd counter", EIO);
      }
    }
  }

  /**
   * Reads and resets an eventfd's counter without blocking.
   *
   * @return the counter (how many signals since the last drain), 0 if it was not signalled
   * @throws PosixException as {@link Fds#read}
   */
  public static long drain(int fd) {
    if (!Poll.poll(fd, 0).readable()) {
      return 0;
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment counter = arena.allocate(JAVA_LONG);
      if (Fds.read(fd, counter, 8) != 8) {
        throw new PosixException("read(" + fd + ") of an eventfd counter", EIO);
      }
      return counter.get(JAVA_LONG, 0);
    }
  }

  /**
   * Reads and resets an eventfd's counter without ever blocking, even if another reader empties it
   * between a {@code poll} and the {@code read} and without touching the file's {@code O_NONBLOCK}
   * (which the fd's other holders share): {@code preadv2} with {@code RWF_NOWAIT}; on a kernel
   * without it for eventfds, {@link #drain} (a {@code poll} then a {@code read}). Allocation-free.
   *
   * @param buffer at least 24 bytes the caller owns (the counter and one {@code struct iovec})
   * @return the counter, 0 if it was not signalled
   * @throws PosixException for an error other than {@code EAGAIN} ({@code EBADF}, ...)
   */
  public static long tryRead(int fd, MemorySegment buffer) {
    if (noWaitUnsupported) {
      return drain(fd);
    }
    MemorySegment counter = buffer.asSlice(0, 8);
    MemorySegment iov = buffer.asSlice(8, 16);
    iov.set(ADDRESS, 0, counter);
    iov.set(JAVA_LONG, 8, 8L);
    MemorySegment errno = errnoSegment();
    while (true) {
      long r;
      try {
        r = (long) PREADV2.invokeExact(errno, fd, iov, 1, -1L, RWF_NOWAIT);
      } catch (Throwable t) {
        throw rethrow(t);
      }
      if (r == 8) {
        return counter.get(JAVA_LONG, 0);
      }
      if (r >= 0) {
        throw new PosixException("preadv2(" + fd + ") of an eventfd counter", EIO);
      }
      int e = errno(errno);
      if (e == Errnos.EAGAIN) {
        return 0;
      }
      if (e == EOPNOTSUPP) {
        noWaitUnsupported = true;
        return drain(fd);
      }
      if (e != Errnos.EINTR) {
        throw new PosixException("preadv2(" + fd + ", RWF_NOWAIT)", e);
      }
    }
  }

  /**
   * The kernel's id of the eventfd behind {@code fd} ({@code eventfd-id} in {@code
   * /proc/self/fdinfo}, Linux 6.0 on): equal for every fd of the same eventfd, as KVM compares its
   * {@code eventfd_ctx}. -1 if the fd is not open or the kernel does not show it.
   */
  public static long id(int fd) {
    if (fd < 0) {
      return -1;
    }
    try {
      for (String line :
          java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/fdinfo/" + fd))) {
        if (line.startsWith("eventfd-id:")) {
          return Long.parseLong(line.substring("eventfd-id:".length()).trim());
        }
      }
    } catch (java.io.IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  /**
   * Whether {@code fd} is an open eventfd (its {@code /proc/self/fd} link reads {@code
   * anon_inode:[eventfd]}), as KVM's {@code eventfd_ctx_fdget} requires for KVM_IOEVENTFD and
   * KVM_IRQFD.
   */
  public static boolean isEventfd(int fd) {
    if (fd < 0) {
      return false;
    }
    try {
      return java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/" + fd))
          .toString()
          .equals("anon_inode:[eventfd]");
    } catch (java.io.IOException | UnsupportedOperationException e) {
      return false;
    }
  }
}
