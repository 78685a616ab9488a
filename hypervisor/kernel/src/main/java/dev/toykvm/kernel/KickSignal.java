package dev.toykvm.kernel;

import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;

/**
 * A vCPU's kick, the counterpart of a signal to its thread: a flag the engine checks at every
 * translation block, and an eventfd every wait of the vCPU (for a device, for room in a pipe)
 * polls. Raising is safe from any thread; the eventfd is never signalled once closed, since its
 * number may already belong to another file.
 */
final class KickSignal implements AutoCloseable {
  private volatile boolean raised;
  private final int fd = Eventfd.create();
  private final Object lock = new Object();
  private boolean closed;

  /** The eventfd that waits poll. */
  int fd() {
    return fd;
  }

  boolean raised() {
    return raised;
  }

  /** Sets the flag and signals the eventfd. */
  void raise() {
    raised = true;
    synchronized (lock) {
      if (!closed) {
        Eventfd.signal(fd);
      }
    }
  }

  /** Clears the flag and empties the eventfd (without blocking). */
  void consume() {
    raised = false;
    Eventfd.drain(fd);
  }

  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      Fds.close(fd);
    }
  }
}
