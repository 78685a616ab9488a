package dev.toykvm.posix;

import static dev.toykvm.posix.Errnos.EINTR;
import static dev.toykvm.posix.Libc.errno;
import static dev.toykvm.posix.Libc.errnoCall;
import static dev.toykvm.posix.Libc.errnoSegment;
import static dev.toykvm.posix.Libc.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code poll(2)}: waiting until fds are readable or writable, in three forms: one fd or several
 * for {@code POLLIN} ({@link PollResult}s), several with their own events (the {@code revents} as
 * ints), and a caller-owned {@code struct pollfd} array for hot paths, which allocates nothing.
 *
 * <p>Each form retries on {@code EINTR} with the same timeout, and blocks the calling carrier
 * thread: use platform threads for it, not virtual threads.
 */
public final class Poll {
  private Poll() {}

  // poll(2) event bits.
  public static final int POLLIN = 0x001;
  public static final int POLLOUT = 0x004;
  public static final int POLLERR = 0x008;
  public static final int POLLHUP = 0x010;
  public static final int POLLNVAL = 0x020;

  /** {@code struct pollfd {int fd; short events; short revents;}}. */
  private static final long POLLFD_SIZE = 8;

  private static final MethodHandle POLL =
      errnoCall("poll", JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);

  /**
   * {@code poll} on {@code fds} for {@code POLLIN}, retried on {@code EINTR} with the same timeout.
   *
   * @param timeoutMs how long to wait; 0 checks and returns at once, negative waits forever
   * @return one result per fd, in the order given ({@code revents} 0 for the fds not ready; all 0
   *     after a timeout); a closed fd reports {@link #POLLNVAL} rather than an exception
   * @throws PosixException if {@code poll} itself fails ({@code ENOMEM}, {@code EINVAL})
   */
  public static List<PollResult> poll(int[] fds, int timeoutMs) {
    int[] events = new int[fds.length];
    java.util.Arrays.fill(events, POLLIN);
    int[] revents = poll(fds, events, timeoutMs);
    List<PollResult> results = new ArrayList<>(fds.length);
    for (int i = 0; i < fds.length; i++) {
      results.add(new PollResult(fds[i], revents[i]));
    }
    return results;
  }

  /**
   * {@code poll} with the events to watch given per fd ({@link #POLLIN}, {@link #POLLOUT}), retried
   * on {@code EINTR}.
   *
   * @return the {@code revents} of each fd, in the order given (all 0 after a timeout)
   * @throws PosixException if {@code poll} itself fails
   */
  public static int[] poll(int[] fds, int[] events, int timeoutMs) {
    if (fds.length != events.length) {
      throw new IllegalArgumentException(
          "poll: " + fds.length + " fds but " + events.length + " event masks");
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment pollfds = arena.allocate(POLLFD_SIZE * Math.max(1, fds.length), 4);
      for (int i = 0; i < fds.length; i++) {
        pollfds.set(JAVA_INT, i * POLLFD_SIZE, fds[i]);
        pollfds.set(JAVA_SHORT, i * POLLFD_SIZE + 4, (short) events[i]);
      }
      MemorySegment errno = errnoSegment();
      while (true) {
        int r;
        try {
          r = (int) POLL.invokeExact(errno, pollfds, (long) fds.length, timeoutMs);
        } catch (Throwable t) {
          throw rethrow(t);
        }
        if (r >= 0) {
          break;
        }
        int e = errno(errno);
        if (e != EINTR) {
          throw new PosixException("poll(" + fds.length + " fds)", e);
        }
      }
      int[] revents = new int[fds.length];
      for (int i = 0; i < fds.length; i++) {
        revents[i] = Short.toUnsignedInt(pollfds.get(JAVA_SHORT, i * POLLFD_SIZE + 6));
      }
      return revents;
    }
  }

  /** Bytes of one {@code struct pollfd} in a segment for {@link #poll(MemorySegment, int, int)}. */
  public static final long POLLFD_BYTES = POLLFD_SIZE;

  /** Sets entry {@code i} of a {@code struct pollfd} array: the fd and the events to watch. */
  public static void setPollfd(MemorySegment pollfds, int i, int fd, int events) {
    pollfds.set(JAVA_INT, i * POLLFD_SIZE, fd);
    pollfds.set(JAVA_SHORT, i * POLLFD_SIZE + 4, (short) events);
    pollfds.set(JAVA_SHORT, i * POLLFD_SIZE + 6, (short) 0);
  }

  /** The {@code revents} of entry {@code i} after {@link #poll(MemorySegment, int, int)}. */
  public static int revents(MemorySegment pollfds, int i) {
    return Short.toUnsignedInt(pollfds.get(JAVA_SHORT, i * POLLFD_SIZE + 6));
  }

  /**
   * {@code poll} on a caller-owned {@code struct pollfd} array (see {@link #setPollfd}), retried on
   * {@code EINTR}: the allocation-free form for hot paths.
   *
   * @return how many entries have events (0 after a timeout)
   * @throws PosixException if {@code poll} itself fails
   */
  public static int poll(MemorySegment pollfds, int count, int timeoutMs) {
    MemorySegment errno = errnoSegment();
    while (true) {
      int r;
      try {
        r = (int) POLL.invokeExact(errno, pollfds, (long) count, timeoutMs);
      } catch (Throwable t) {
        throw rethrow(t);
      }
      if (r >= 0) {
        return r;
      }
      int e = errno(errno);
      if (e != EINTR) {
        throw new PosixException("poll(" + count + " fds)", e);
      }
    }
  }

  /** {@link #poll} on one fd. */
  public static PollResult poll(int fd, int timeoutMs) {
    return poll(new int[] {fd}, timeoutMs).getFirst();
  }
}
