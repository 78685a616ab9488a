package dev.toykvm.bench;

import dev.toykvm.posix.Affinity;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The other side of a latency sample: a thread pinned to one CPU that, each time it is {@link #arm
 * armed}, waits a fixed spacing (so that the measuring thread is back in its wait), fires, and
 * hands the {@link System#nanoTime()} its action returned to the measuring thread ({@link #take}),
 * which subtracts it from its own time when its wait ends. Both are CLOCK_MONOTONIC.
 *
 * <p>An action that throws ends the thread; {@code onFailure} then runs (e.g. a kick, so that a
 * vCPU waiting for the interrupt that will never come returns) and {@link #take} reports the
 * failure.
 */
final class Trigger implements AutoCloseable {

  /** What the trigger does once per sample. */
  @FunctionalInterface
  interface Action {
    /** Fires; returns the time taken right before. */
    long fire() throws InterruptedException;
  }

  private static final long FAILED = Long.MIN_VALUE;

  private final SynchronousQueue<Boolean> armed = new SynchronousQueue<>();
  private final LinkedBlockingQueue<Long> stamps = new LinkedBlockingQueue<>();
  private final AtomicReference<RuntimeException> failed = new AtomicReference<>();
  private final String what;
  private final Thread thread;

  /**
   * Starts the thread.
   *
   * @param what what is measured, for messages ("the eventfd wake-up")
   * @param name the thread's name
   * @param cpu the CPU it is pinned to
   * @param spacingNs how long it waits after being armed
   * @param action what it does
   * @param after what it does after handing over the time (may be a no-op)
   * @param onFailure what it does when {@code action} or {@code after} throws
   */
  Trigger(
      String what,
      String name,
      int cpu,
      long spacingNs,
      Action action,
      Action after,
      Runnable onFailure) {
    this.what = what;
    this.thread =
        Thread.ofPlatform()
            .name(name)
            .start(
                () -> {
                  Affinity.pinThisThread(Affinity.cpu(cpu));
                  try {
                    while (true) {
                      armed.take();
                      LockSupport.parkNanos(spacingNs);
                      stamps.put(action.fire());
                      after.fire();
                    }
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  } catch (RuntimeException e) {
                    failed.set(e);
                    stamps.offer(FAILED);
                    onFailure.run();
                  }
                });
  }

  /** A trigger with nothing after the action and nothing to do on failure. */
  Trigger(String what, String name, int cpu, long spacingNs, Action action) {
    this(what, name, cpu, spacingNs, action, () -> 0, () -> {});
  }

  /** Lets the thread fire once (it waits for this call). */
  void arm() throws InterruptedException {
    armed.put(Boolean.TRUE);
  }

  /**
   * The time of the last firing.
   *
   * @throws BenchException if the action failed or nothing came within {@code timeoutMs}
   */
  long take(long timeoutMs) throws InterruptedException {
    Long t = stamps.poll(timeoutMs, TimeUnit.MILLISECONDS);
    if (failed.get() != null) {
      throw new BenchException("cannot measure " + what + ": " + failed.get().getMessage());
    }
    if (t == null || t == FAILED) {
      throw new BenchException("cannot measure " + what + ": no signal time");
    }
    return t;
  }

  /** Whether the action failed (the measuring thread may look before it takes the time). */
  boolean failed() {
    return failed.get() != null;
  }

  /** Stops the thread and waits for it. */
  @Override
  public void close() throws InterruptedException {
    thread.interrupt();
    thread.join();
  }
}
