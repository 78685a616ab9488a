package dev.toykvm.kernel;

import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.LockSupport;

/**
 * The hand-off between the thread that calls {@code run()} (the VMM's vCPU thread) and the vCPU's
 * engine thread: one request at a time, one reply to it. This is toykvm's VM exit and entry: a
 * {@code run()} is a request, an exit is its reply.
 *
 * <p>Neither side spins: on this 2-core machine a spinning waiter can steal the core from the
 * thread it waits for. The engine thread parks; the calling thread waits in a {@code read} of an
 * eventfd made through {@link MemoryHold}, which keeps the guest memory of the request alive while
 * it waits (a shared arena cannot be closed under a running guest).
 *
 * <p>Lifetime: {@link #close()} wakes both sides; {@link #release()} frees the eventfd and must
 * only be called once neither side can touch it again (the engine thread has ended and no caller is
 * inside {@link #call}).
 */
final class Mailbox {
  private volatile Object request;
  private volatile Object reply;
  private volatile Thread server;
  private volatile boolean closed;
  private final int wakeFd;
  private final MemorySegment wakeBuf = Arena.ofAuto().allocate(8, 8);
  private boolean released;

  /** Closed mailbox marker returned to a waiting client or server. */
  static final Object CLOSED = new Object();

  private static final MemorySegment[] NOTHING = {};

  /**
   * @throws dev.toykvm.posix.PosixException if no eventfd can be made (out of fds)
   */
  Mailbox() {
    wakeFd = Eventfd.create();
  }

  void bindServer(Thread thread) {
    server = thread;
  }

  /** {@link #call(Object, MemorySegment[])} holding no memory. */
  Object call(Object req) {
    return call(req, NOTHING);
  }

  /**
   * Sends a request and waits for its reply, keeping {@code hold} alive meanwhile; returns {@link
   * #CLOSED} if the mailbox closes.
   */
  Object call(Object req, MemorySegment[] hold) {
    reply = null;
    request = req;
    LockSupport.unpark(server);
    while (true) {
      // Closed first: once closed, a call fails even if a reply raced with the close.
      if (closed) {
        return CLOSED;
      }
      Object r = reply;
      if (r != null) {
        reply = null;
        return r;
      }
      MemoryHold.read(wakeFd, wakeBuf, hold);
    }
  }

  /** Server side: waits for the next request; returns {@link #CLOSED} if the mailbox closes. */
  Object take() {
    Object r;
    while ((r = request) == null) {
      if (closed) {
        return CLOSED;
      }
      LockSupport.park(this);
    }
    request = null;
    return r;
  }

  /** Server side: answers the current request. */
  void reply(Object r) {
    reply = r;
    wake();
  }

  /** Wakes both sides for good. */
  void close() {
    closed = true;
    LockSupport.unpark(server);
    wake();
  }

  private synchronized void wake() {
    if (!released) {
      Eventfd.signal(wakeFd);
    }
  }

  /** Frees the eventfd; see the class comment for when this is allowed. Idempotent. */
  synchronized void release() {
    if (!released) {
      released = true;
      Fds.close(wakeFd);
    }
  }

  boolean isClosed() {
    return closed;
  }
}
