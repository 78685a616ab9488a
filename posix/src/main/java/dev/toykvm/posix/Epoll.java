package dev.toykvm.posix;

import static dev.toykvm.posix.Errnos.EINTR;
import static dev.toykvm.posix.Libc.O_CLOEXEC;
import static dev.toykvm.posix.Libc.errno;
import static dev.toykvm.posix.Libc.errnoCall;
import static dev.toykvm.posix.Libc.errnoSegment;
import static dev.toykvm.posix.Libc.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * {@code epoll(7)}: an interest list in the kernel, waited on with one call. Used where {@code
 * poll} cannot do the job: {@link #EPOLLEXCLUSIVE} lets several waiters share an fd so that one
 * wake-up reaches one of them (the first, in the order they were attached, that is waiting), not
 * all.
 *
 * <p>An event carries the 64-bit {@code data} given at {@link #add}; {@code struct epoll_event} is
 * packed on x86-64 (12 bytes: {@code u32 events, u64 data}).
 */
public final class Epoll {
  private Epoll() {}

  public static final int EPOLLIN = 0x001;
  public static final int EPOLLERR = 0x008;
  public static final int EPOLLHUP = 0x010;

  /** Attach exclusively: a wake-up of the fd wakes one exclusive waiter that is waiting. */
  public static final int EPOLLEXCLUSIVE = 1 << 28;

  /** Bytes of one {@code struct epoll_event}. */
  public static final long EVENT_BYTES = 12;

  private static final int EPOLL_CTL_ADD = 1;
  private static final int EPOLL_CTL_DEL = 2;

  private static final MethodHandle CREATE = errnoCall("epoll_create1", JAVA_INT, JAVA_INT);
  private static final MethodHandle CTL =
      errnoCall("epoll_ctl", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS);
  private static final MethodHandle WAIT =
      errnoCall("epoll_wait", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);

  /**
   * {@code epoll_create1(EPOLL_CLOEXEC)}.
   *
   * @throws PosixException if the process is out of fds or memory
   */
  public static int create() {
    MemorySegment errno = errnoSegment();
    int r;
    try {
      r = (int) CREATE.invokeExact(errno, O_CLOEXEC);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (r < 0) {
      throw new PosixException("epoll_create1(EPOLL_CLOEXEC)", errno(errno));
    }
    return r;
  }

  /**
   * Adds {@code fd} to {@code epfd}'s interest list for {@code events}, with {@code data}.
   *
   * @throws PosixException {@code EEXIST} if it is there already, {@code EBADF}, ...
   */
  public static void add(int epfd, int fd, int events, long data) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment event = arena.allocate(EVENT_BYTES, 4);
      event.set(JAVA_INT, 0, events);
      event.set(JAVA_LONG_UNALIGNED, 4, data);
      ctl(epfd, EPOLL_CTL_ADD, fd, event);
    }
  }

  /**
   * Removes {@code fd} from {@code epfd}'s interest list. Needed before closing a duplicated fd:
   * the registration belongs to the open file, which another fd may keep open.
   *
   * @throws PosixException {@code ENOENT} if it is not there, {@code EBADF}, ...
   */
  public static void delete(int epfd, int fd) {
    ctl(epfd, EPOLL_CTL_DEL, fd, MemorySegment.NULL);
  }

  private static void ctl(int epfd, int op, int fd, MemorySegment event) {
    MemorySegment errno = errnoSegment();
    int r;
    try {
      r = (int) CTL.invokeExact(errno, epfd, op, fd, event);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (r < 0) {
      throw new PosixException(
          "epoll_ctl(" + epfd + ", " + (op == EPOLL_CTL_ADD ? "ADD" : "DEL") + ", " + fd + ")",
          errno(errno));
    }
  }

  /**
   * {@code epoll_wait} into {@code events} (room for {@code max}), retried on {@code EINTR}.
   *
   * @return how many events came (0 after the timeout; -1 waits without one)
   */
  public static int await(int epfd, MemorySegment events, int max, int timeoutMs) {
    MemorySegment errno = errnoSegment();
    while (true) {
      int r;
      try {
        r = (int) WAIT.invokeExact(errno, epfd, events, max, timeoutMs);
      } catch (Throwable t) {
        throw rethrow(t);
      }
      if (r >= 0) {
        return r;
      }
      int e = errno(errno);
      if (e != EINTR) {
        throw new PosixException("epoll_wait(" + epfd + ")", e);
      }
    }
  }

  /** The {@code data} of event {@code i} after {@link #await}. */
  public static long data(MemorySegment events, int i) {
    return events.get(JAVA_LONG_UNALIGNED, i * EVENT_BYTES + 4);
  }

  /** The {@code events} of event {@code i} after {@link #await}. */
  public static int events(MemorySegment events, int i) {
    return events.get(JAVA_INT, i * EVENT_BYTES);
  }
}
