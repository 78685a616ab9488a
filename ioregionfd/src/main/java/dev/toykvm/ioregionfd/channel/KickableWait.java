package dev.toykvm.ioregionfd.channel;

import dev.toykvm.posix.Poll;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The one "wait for an fd, or a kick, until a deadline" of the kernel side: a vCPU waiting for a
 * device (its answer, or room in its command pipe) must leave at once when it is kicked, and never
 * wait forever. Allocation-free: the {@code pollfd} array is made once per vCPU.
 *
 * <p>Used by one thread at a time (the vCPU's engine thread).
 */
final class KickableWait implements AutoCloseable {
  /** How a wait ended. */
  enum Outcome {
    /** The fd is ready for the events asked. */
    READY,
    /** The kick eventfd was signalled (it is not drained here). */
    KICKED,
    /** The deadline passed. */
    TIMED_OUT,
    /** The other end of the fd is closed (POLLHUP or POLLERR without the events asked). */
    CLOSED,
    /** The fd is not open (POLLNVAL). */
    NOT_OPEN
  }

  private final Arena arena = Arena.ofShared();
  private final MemorySegment pollfds = arena.allocate(2 * Poll.POLLFD_BYTES, 8);
  private final int kickFd;

  KickableWait(int kickFd) {
    this.kickFd = kickFd;
  }

  /** Waits until {@code fd} is ready for {@code events}, a kick, or {@code deadline} (nanoTime). */
  Outcome await(int fd, int events, long deadline) {
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return Outcome.TIMED_OUT;
      }
      Poll.setPollfd(pollfds, 0, fd, events);
      Poll.setPollfd(pollfds, 1, kickFd, Poll.POLLIN);
      // Round up: a wait of 0 ms would spin until the deadline.
      int ms = (int) Math.max(1, Math.min(Integer.MAX_VALUE, (left + 999_999) / 1_000_000));
      Poll.poll(pollfds, 2, ms);
      if (Poll.revents(pollfds, 1) != 0) {
        return Outcome.KICKED;
      }
      int r = Poll.revents(pollfds, 0);
      if ((r & Poll.POLLNVAL) != 0) {
        return Outcome.NOT_OPEN;
      }
      if ((r & events) != 0) {
        return Outcome.READY;
      }
      if ((r & (Poll.POLLHUP | Poll.POLLERR)) != 0) {
        return Outcome.CLOSED;
      }
    }
  }

  @Override
  public void close() {
    arena.close();
  }
}
