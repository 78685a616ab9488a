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

  /** Irqfd interrupts the VMs' irqfd threads injected. */
  public static long irqfdInjectionsByThread() {
    return IRQFD_INJECTIONS_BY_THREAD.sum();
  }

  /** Irqfd interrupts a halted vCPU injected itself, woken by the eventfd ({@code HaltPoller}). */
  public static long irqfdInjectionsByHaltedVcpu() {
    return IRQFD_INJECTIONS_BY_HALTED_VCPU.sum();
  }
}
