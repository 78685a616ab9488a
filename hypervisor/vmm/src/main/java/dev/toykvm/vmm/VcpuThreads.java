package dev.toykvm.vmm;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/**
 * One VMM thread per vCPU, as kvmtool runs its vCPUs: vCPU 0's loop runs on the calling thread,
 * every other vCPU's on a thread of its own ({@code vcpuN}). The first loop that ends the VM (with
 * an outcome or an exception) wins; {@code endOthers} then makes the others return (it kicks them),
 * and {@link #run} returns that first result once every thread has ended.
 */
final class VcpuThreads {
  private VcpuThreads() {}

  /**
   * Runs {@code loop.apply(i)} for every vCPU {@code i} in {@code 0..n-1}. A loop returns its
   * outcome, or null if it ended because another one did.
   *
   * @throws RuntimeException the first loop's exception, if a loop threw before any outcome
   */
  static VmOutcome run(int n, IntFunction<VmOutcome> loop, Runnable endOthers) {
    AtomicReference<Object> first = new AtomicReference<>();
    List<Thread> threads = new ArrayList<>();
    for (int i = 1; i < n; i++) {
      int id = i;
      threads.add(
          Thread.ofPlatform().name("vcpu" + id).start(() -> runOne(id, loop, first, endOthers)));
    }
    runOne(0, loop, first, endOthers);
    boolean interrupted = false;
    for (Thread t : threads) {
      while (true) {
        try {
          t.join();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    Object result = first.get();
    if (result instanceof RuntimeException e) {
      throw e;
    }
    if (result instanceof Error e) {
      throw e;
    }
    return (VmOutcome) result;
  }

  private static void runOne(
      int id, IntFunction<VmOutcome> loop, AtomicReference<Object> first, Runnable endOthers) {
    Object result;
    try {
      result = loop.apply(id);
    } catch (RuntimeException | Error e) {
      result = e;
    }
    if (result != null && first.compareAndSet(null, result)) {
      endOthers.run();
    }
  }
}
