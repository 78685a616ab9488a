package dev.toykvm.kernel;

import java.util.concurrent.locks.ReentrantLock;

/**
 * The VM's guest-execution turn: at most one vCPU of a VM runs guest code at a time, as QEMU's
 * single-threaded (round-robin) TCG runs its vCPUs.
 *
 * <p>Why: Debian's libunicorn 2.0.1 never translates in TCG's parallel mode ({@code curr_cflags()}
 * is 0, so {@code CF_PARALLEL} is never set), and a {@code lock}-prefixed instruction becomes a
 * plain load, operation and store. Two engines running at once on one RAM lose updates (measured: 2
 * vCPUs x 2 M {@code lock inc} lost 31%, {@code lock xadd} 26%, an {@code xchg} spinlock deadlocked
 * with the lock word 1 and no owner; see ARCHITECTURE.md, "SMP").
 *
 * <p>Rules: a vCPU holds the turn only while its engine executes guest code ({@code uc_emu_start}),
 * and lets it go in every wait inside a callback (an exit to the VMM, an ioregion or ioeventfd
 * access), in {@code hlt} and while it waits for a SIPI. At a translation block start, a vCPU that
 * has had the turn for a whole slice while another vCPU wants it hands it over ({@link
 * #yieldIfDue}). The lock is fair, so the turn goes round. One vCPU alone never waits for it.
 * Nothing else is ever held while a thread waits for the turn, so it cannot deadlock.
 */
final class GuestTurn {
  /**
   * How long a vCPU keeps the turn while another wants it: the system property {@code
   * toykvm.smp.slice.us} (a "module parameter"), 1000 us by default.
   */
  static final String SLICE_PROPERTY = "toykvm.smp.slice.us";

  /**
   * How often a vCPU waiting for the turn reminds the holder's block gate (see {@link Hold#take}).
   */
  private static final long REMIND_NANOS = 200_000;

  private final ReentrantLock lock = new ReentrantLock(true);
  private volatile Hold holder;
  private final long sliceNanos = Math.max(1, Long.getLong(SLICE_PROPERTY, 1000)) * 1000L;

  /** One vCPU's hold on the turn (its engine thread only). */
  final class Hold {
    private long since;
    private volatile Runnable contention = () -> {};

    /**
     * What makes this vCPU's engine look at its next block start (its block gate), so that it sees
     * another vCPU waiting and hands the turn over when its slice is over.
     */
    void onContention(Runnable raise) {
      contention = raise;
    }

    /**
     * Takes the turn (waits while another vCPU runs guest code). While it waits it raises the
     * holder's block gate, and again every 200 us, so a holder that has just taken the turn (and
     * cleared its gate before this thread queued) still sees the wait within a slice.
     */
    void take() {
      while (true) {
        Hold h = holder;
        if (h != null && h != this) {
          h.contention.run();
        }
        try {
          if (lock.tryLock(REMIND_NANOS, java.util.concurrent.TimeUnit.NANOSECONDS)) {
            break;
          }
        } catch (InterruptedException e) {
          lock.lock(); // engine threads are not interrupted; if one is, it still needs the turn
          Thread.currentThread().interrupt();
          break;
        }
      }
      holder = this;
      since = System.nanoTime();
    }

    /** Whether another vCPU waits for the turn this vCPU holds. */
    boolean contended() {
      return lock.hasQueuedThreads() && lock.isHeldByCurrentThread();
    }

    /**
     * Lets the turn go if this thread holds it; returns whether it did, so that a nested wait does
     * not take it twice.
     */
    boolean release() {
      if (!lock.isHeldByCurrentThread()) {
        return false;
      }
      holder = null;
      lock.unlock();
      return true;
    }

    /** Runs a device access, which may wait, without the turn: other vCPUs run meanwhile. */
    long without(java.util.function.LongSupplier access) {
      boolean had = release();
      try {
        return access.getAsLong();
      } finally {
        if (had) {
          take();
        }
      }
    }

    /** At a block start: hands the turn over if the slice is over and another vCPU waits. */
    void yieldIfDue(long now) {
      if (now - since >= sliceNanos && lock.hasQueuedThreads() && lock.isHeldByCurrentThread()) {
        holder = null;
        lock.unlock();
        take();
      }
    }
  }

  Hold hold() {
    return new Hold();
  }
}
