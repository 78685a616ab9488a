package dev.toykvm.kernel;

/**
 * What a vCPU's block starts say about a guest that waits for a device by spinning, for its posted
 * writes ({@link PostedWrites}); the kernel side's counterpart of KVM's pause-loop exiting.
 *
 * <p>Two things, both at the translation block starts the engine sees while its block gate is
 * raised:
 *
 * <ol>
 *   <li><b>A loop without a posted write.</b> While posted writes wait in a batch, a block start at
 *       an address the guest has started since its last posted write means that the guest loops
 *       without writing: it has stopped writing and most likely polls memory for the device's
 *       answer, so the batch goes now rather than after {@code PostedBatch.IDLE_NANOS}. A loop of
 *       up to {@link #RING} blocks is recognised on its second turn. A burst of posted writes in a
 *       loop adds a write before each return, so it still goes out in one batch.
 *   <li><b>Giving the CPU away while the guest waits.</b> After a batch went out because the guest
 *       stopped writing, the engine yields its CPU ({@code sched_yield}) at once, and again each
 *       {@link #YIELD_EVERY_NANOS} while the guest keeps coming back to the block where it was seen
 *       waiting (the anchor), for at most {@link #WINDOW_NANOS}. The device process may share the
 *       vCPU's CPU: a spinning vCPU would otherwise keep it until the scheduler takes it away
 *       (measured: about one read in 500 waited for a 4 ms scheduler tick). The window closes at
 *       the next posted write, at its end, or after {@link #MAX_BLOCKS_AWAY} block starts without
 *       the anchor (the guest has gone on to other work), so a guest that computes after a doorbell
 *       pays at most that many block upcalls and one yield for it.
 * </ol>
 *
 * <p>Engine thread only. Times are {@link System#nanoTime()} values passed in.
 */
final class SpinWatch {
  /** The longest loop, in blocks, recognised as a loop. */
  static final int RING = 8;

  /** How long after a batch goes out the vCPU may still yield to the device. */
  static final long WINDOW_NANOS = 1_000_000;

  /** How often, at most, a waiting vCPU yields. */
  static final long YIELD_EVERY_NANOS = 20_000;

  /** Block starts away from the anchor that close the window. */
  static final int MAX_BLOCKS_AWAY = 64;

  private final Runnable yield;
  private final long[] recent = new long[RING];
  private int recorded; // valid entries of recent, at most RING
  private int next; // where the next address goes
  private boolean window;
  private long anchor;
  private long windowEnd;
  private long lastYield;
  private int away;

  /**
   * @param yield gives the CPU away ({@code Thread::yield}, which is {@code sched_yield(2)})
   */
  SpinWatch(Runnable yield) {
    this.yield = yield;
  }

  /** A posted write was added: the blocks seen so far are no loop, and the guest does not wait. */
  void writeAdded() {
    recorded = 0;
    next = 0;
    window = false;
  }

  /**
   * At a block start while posted writes wait: whether the guest started this block since its last
   * posted write (it loops without writing). Remembers the block either way.
   */
  boolean loopsBack(long address) {
    for (int i = 0; i < recorded; i++) {
      if (recent[i] == address) {
        return true;
      }
    }
    recent[next] = address;
    next = (next + 1) % RING;
    recorded = Math.min(recorded + 1, RING);
    return false;
  }

  /**
   * The batch went out because the guest stopped writing, at the block starting at {@code address}:
   * yields now and opens the window.
   */
  void waiting(long now, long address) {
    recorded = 0;
    next = 0;
    window = true;
    anchor = address;
    windowEnd = now + WINDOW_NANOS;
    away = 0;
    yieldNow(now);
  }

  /** Whether the window is open: the engine must see the next block start. */
  boolean watching() {
    return window;
  }

  /**
   * At a block start while the window is open: yields if the guest is back at the anchor and the
   * last yield is {@link #YIELD_EVERY_NANOS} old. Returns whether the window is still open.
   */
  boolean atBlock(long now, long address) {
    if (!window) {
      return false;
    }
    if (now - windowEnd >= 0) {
      window = false;
    } else if (address == anchor) {
      away = 0;
      if (now - lastYield >= YIELD_EVERY_NANOS) {
        yieldNow(now);
      }
    } else if (++away > MAX_BLOCKS_AWAY) {
      window = false;
    }
    return window;
  }

  private void yieldNow(long now) {
    KernelStats.SPIN_YIELDS.increment();
    yield.run();
    lastYield = now;
  }
}
