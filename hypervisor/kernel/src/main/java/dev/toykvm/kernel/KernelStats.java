package dev.toykvm.kernel;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of the kernel side, for all VMs of this process, in the spirit of KVM's statistics
 * ({@code /sys/kernel/debug/kvm}): what a test or a curious user can read to see which path did the
 * work.
 */
public final class KernelStats {
  private KernelStats() {}

  static final LongAdder IRQFD_INJECTIONS_BY_THREAD = new LongAdder();
  static final LongAdder IRQFD_INJECTIONS_BY_HALTED_VCPU = new LongAdder();
  static final LongAdder POSTED_BATCHES = new LongAdder();
  static final LongAdder POSTED_FLUSHES_AT_LOOP = new LongAdder();
  static final LongAdder SPIN_YIELDS = new LongAdder();

  /** Irqfd interrupts the VMs' irqfd threads injected. */
  public static long irqfdInjectionsByThread() {
    return IRQFD_INJECTIONS_BY_THREAD.sum();
  }

  /** Irqfd interrupts a halted vCPU injected itself, woken by the eventfd ({@code HaltPoller}). */
  public static long irqfdInjectionsByHaltedVcpu() {
    return IRQFD_INJECTIONS_BY_HALTED_VCPU.sum();
  }

  /** Batches of posted writes sent to devices (each one {@code write(2)} of one or more). */
  public static long postedBatches() {
    return POSTED_BATCHES.sum();
  }

  /**
   * Batches of posted writes sent early because the guest came back to a block it had run since its
   * last posted write ({@code SpinWatch}): it loops without writing.
   */
  public static long postedFlushesAtLoop() {
    return POSTED_FLUSHES_AT_LOOP.sum();
  }

  /** Times a vCPU gave its CPU away while its guest waited after its posted writes went out. */
  public static long spinYields() {
    return SPIN_YIELDS.sum();
  }
}
