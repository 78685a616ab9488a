package dev.toykvm.kernel;

import dev.toykvm.posix.Epoll;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.PosixException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * What a halted vCPU waits on when its VM has edge irqfds: an epoll list of those eventfds
 * (attached with {@code EPOLLEXCLUSIVE}, ahead of the irqfd thread's own attachment, see {@link
 * Irqfds}) and a wake eventfd of its own. A device's MSI then wakes the halted vCPU, which injects
 * it itself ({@link Irqfds#fireHalted}), instead of the irqfd thread waking, injecting and waking
 * the vCPU: one thread wake-up less per interrupt, as KVM injects from the eventfd's wake-up
 * callback with no thread at all. A vCPU that is running has no waiter on its list, so the wake-up
 * goes on to the irqfd thread.
 *
 * <p>The edge irqfds are attached and detached by {@link Irqfds} under its lock; {@link #await}
 * runs on the vCPU's engine thread only; {@link #signal} from any thread.
 */
final class HaltPoller implements AutoCloseable {
  static final long WAKE = 0;
  private static final int MAX_EVENTS = 32;

  final int epoll;
  private final int wakeFd;
  private final Arena arena = Arena.ofShared();
  private final MemorySegment events = arena.allocate(Epoll.EVENT_BYTES * MAX_EVENTS, 8);
  private final MemorySegment counter = arena.allocate(24, 8);
  private volatile int irqfds; // edge irqfds attached (written under the Irqfds lock)

  private HaltPoller(int epoll, int wakeFd) {
    this.epoll = epoll;
    this.wakeFd = wakeFd;
  }

  /**
   * A poller with its epoll list and wake eventfd.
   *
   * @throws PosixException without fds (nothing is kept)
   */
  static HaltPoller create() {
    int epoll = Epoll.create();
    int wake;
    try {
      wake = Eventfd.create();
    } catch (PosixException e) {
      Fds.close(epoll);
      throw e;
    }
    try {
      Epoll.add(epoll, wake, Epoll.EPOLLIN, WAKE);
    } catch (PosixException e) {
      Fds.close(wake);
      Fds.close(epoll);
      throw e;
    }
    return new HaltPoller(epoll, wake);
  }

  /** Whether there is an irqfd to wait on (else the vCPU waits as it always did). */
  boolean hasIrqfds() {
    return irqfds > 0;
  }

  /**
   * Attaches an edge irqfd's eventfd (under the Irqfds lock); {@code id} is never {@link #WAKE}.
   */
  void attach(int fd, long id) {
    Epoll.add(epoll, fd, Epoll.EPOLLIN | Epoll.EPOLLEXCLUSIVE, id);
    irqfds++;
  }

  /** Detaches it again, before its fd is closed (under the Irqfds lock). */
  void detach(int fd) {
    try {
      Epoll.delete(epoll, fd);
    } finally {
      irqfds--;
    }
  }

  /** Makes a waiting {@link #await} return (any thread). */
  void signal() {
    Eventfd.signal(wakeFd);
  }

  /**
   * Waits up to {@code timeoutMs} (-1: no limit) for a wake-up or an irqfd, and injects every irqfd
   * that fired through {@code owner}. Spurious returns are fine: the caller looks again.
   */
  void await(int timeoutMs, Irqfds owner) {
    int n = Epoll.await(epoll, events, MAX_EVENTS, timeoutMs);
    for (int i = 0; i < n; i++) {
      long id = Epoll.data(events, i);
      if (id == WAKE) {
        Eventfd.tryRead(wakeFd, counter);
      } else {
        owner.fireHalted(id, counter);
      }
    }
  }

  @Override
  public void close() {
    Fds.close(wakeFd);
    Fds.close(epoll);
    arena.close();
  }
}
