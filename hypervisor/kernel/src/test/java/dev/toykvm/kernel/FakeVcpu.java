package dev.toykvm.kernel;

import dev.toykvm.kvm.VcpuExit;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/** A {@link VcpuLink} with no engine: records the exits and answers reads as a VMM would. */
final class FakeVcpu implements VcpuLink {
  final List<VcpuExit> exits = new ArrayList<>();
  boolean kick;
  private long answer = -1;
  private boolean answered;
  private Consumer<VcpuExit> vmm = exit -> {};
  final VcpuStats stats = new VcpuStats();

  @Override
  public VcpuStats stats() {
    return stats;
  }

  /** What the "VMM" does with each exit before the next run() (e.g. setData). */
  FakeVcpu vmm(Consumer<VcpuExit> vmm) {
    this.vmm = vmm;
    return this;
  }

  @Override
  public boolean kicked() {
    return kick;
  }

  @Override
  public void consumeKick() {
    kick = false;
  }

  @Override
  public long exitToVmm(VcpuExit exit) {
    answered = false;
    exits.add(exit);
    vmm.accept(exit);
    return answered ? answer : -1L;
  }

  @Override
  public LongConsumer completion() {
    return value -> {
      answer = value;
      answered = true;
    };
  }
}
