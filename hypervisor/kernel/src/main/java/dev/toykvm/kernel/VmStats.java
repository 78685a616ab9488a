package dev.toykvm.kernel;

import dev.toykvm.kvm.KvmStat;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * A VM's statistics ({@code KVM_GET_STATS_FD} on the VM fd, {@link
 * dev.toykvm.kvm.VmFd#getStats()}): counted by whichever thread does the work, read from any.
 */
final class VmStats {
  /** Irqfd interrupts the VM's irqfd thread injected. */
  final LongAdder irqfdInjectionsByThread = new LongAdder();

  /** Irqfd interrupts a halted vCPU injected itself, woken by the eventfd ({@code HaltPoller}). */
  final LongAdder irqfdInjectionsByHaltedVcpu = new LongAdder();

  /** The statistics now, in their fixed order. */
  List<KvmStat> snapshot() {
    return List.of(
        VcpuStats.stat("irqfd_injections_by_thread", irqfdInjectionsByThread.sum()),
        VcpuStats.stat("irqfd_injections_by_halted_vcpu", irqfdInjectionsByHaltedVcpu.sum()));
  }
}
