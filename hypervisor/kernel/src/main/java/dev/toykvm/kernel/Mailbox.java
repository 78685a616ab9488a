package dev.toykvm.kernel;

import java.util.concurrent.locks.LockSupport;

/**
 * The hand-off between the thread that calls {@code run()} (the VMM's vCPU thread) and the vCPU's
 * engine thread: one request at a time, one reply to it. This is toykvm's VM exit and entry: a
 * {@code run()} is a request, an exit is its reply.
 *
 * <p>Both sides park rather than spin: on this 2-core machine a spinning waiter can steal the core
 * from the thread it waits for.
 */
final class Mailbox {
  private volatile Object request;
  private volatile Object reply;
  private volatile Thread server;
  private volatile Thread client;
  private volatile boolean closed;

  /** Closed mailbox marker returned to a waiting client or server. */
  static final Object CLOSED = new Object();

  void bindServer(Thread thread) {
    server = thread;
  }

  /** Sends a request and waits for its reply; returns {@link #CLOSED} if the mailbox closes. */
  Object call(Object req) {
    client = Thread.currentThread();
    reply = null;
    request = req;
    LockSupport.unpark(server);
    Object r;
    while ((r = reply) == null) {
      if (closed) {
        return CLOSED;
      }
      LockSupport.park(this);
    }
    reply = null;
    return r;
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
    LockSupport.unpark(client);
  }

  void close() {
    closed = true;
    LockSupport.unpark(server);
    LockSupport.unpark(client);
  }

  boolean isClosed() {
    return closed;
  }
}
