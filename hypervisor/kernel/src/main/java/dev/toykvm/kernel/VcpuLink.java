package dev.toykvm.kernel;

import dev.toykvm.kvm.VcpuExit;
import java.util.function.LongConsumer;

/**
 * What the classes that serve a guest access need from their vCPU's engine thread: the kick, and
 * the way out to the VMM from inside a Unicorn callback. {@link VcpuEngine} is the one
 * implementation; tests give their own, so that routing is tested without a CPU.
 */
interface VcpuLink {
  /** Whether a kick waits to be noticed. */
  boolean kicked();

  /** Clears a kick: the flag and the kick eventfd. */
  void consumeKick();

  /**
   * Hands {@code exit} to the thread in {@code run()} and returns once the next {@code run()}
   * arrives: with the value the VMM gave to {@link #completion()}, or -1 (all-ones) if none.
   */
  long exitToVmm(VcpuExit exit);

  /** Where {@code setData} of the exit being handed out delivers its value. */
  LongConsumer completion();

  /** The vCPU's statistics, where the kernel side counts what it does without an exit. */
  VcpuStats stats();
}
