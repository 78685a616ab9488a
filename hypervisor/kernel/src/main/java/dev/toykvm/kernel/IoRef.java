package dev.toykvm.kernel;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The kernel side's reference to what an ioregion or ioeventfd uses (its own fds): taken by a vCPU
 * for the length of an access, dropped when the registration is removed, and released for good (the
 * fds closed) only when both have happened. So removing a region while a vCPU is inside it never
 * closes an fd under that vCPU, and a number the VMM reuses never reaches an old region.
 */
final class IoRef {
  private static final int RETIRED = 1 << 30;

  private final AtomicInteger state = new AtomicInteger();
  private final Runnable onLastRelease;

  IoRef(Runnable onLastRelease) {
    this.onLastRelease = onLastRelease;
  }

  /** Takes a use; false if the registration is already removed. */
  boolean tryAcquire() {
    while (true) {
      int s = state.get();
      if ((s & RETIRED) != 0) {
        return false;
      }
      if (state.compareAndSet(s, s + 1)) {
        return true;
      }
    }
  }

  void release() {
    if (state.decrementAndGet() == RETIRED) {
      onLastRelease.run();
    }
  }

  /** The registration is gone: release when the last use ends (now, if there is none). */
  void retire() {
    int s = state.getAndUpdate(v -> (v & RETIRED) != 0 ? v : v + RETIRED);
    if ((s & RETIRED) == 0 && s == 0) {
      onLastRelease.run();
    }
  }

  boolean isRetired() {
    return (state.get() & RETIRED) != 0;
  }
}
