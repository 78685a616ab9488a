package dev.toykvm.ioregionfd.channel;

import java.util.concurrent.atomic.AtomicReference;

/**
 * The state shared by every ioregion that reads its responses from one fd (the RFC's per-fd
 * context): at most one access is in flight on it, since responses carry no tag to say whose they
 * are. An access owns the context from sending its command until its response is read, across a
 * kick of its vCPU.
 */
public final class FdContext {
  private final int readFd;
  private final AtomicReference<Object> owner = new AtomicReference<>();
  private int staleResponses;

  public FdContext(int readFd) {
    this.readFd = readFd;
  }

  public int readFd() {
    return readFd;
  }

  boolean tryAcquire(Object who) {
    return owner.compareAndSet(null, who) || owner.get() == who;
  }

  void release(Object who) {
    owner.compareAndSet(who, null);
  }

  /** Responses that will arrive for commands whose sender gave up on them; read and dropped. */
  int staleResponses() {
    return staleResponses;
  }

  void addStaleResponse() {
    staleResponses++;
  }

  void dropStaleResponse() {
    staleResponses--;
  }
}
