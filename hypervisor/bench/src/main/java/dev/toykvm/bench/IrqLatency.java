package dev.toykvm.bench;

import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Affinity;
import dev.toykvm.posix.Processes;
import java.lang.foreign.Arena;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Interrupt delivery latency for {@code toykvm bench guest-speed}: from the moment a source signals
 * GSI {@value LatencyGuest#GSI} ({@link IrqSource}: {@code KVM_IRQ_LINE}, an irqfd written by a
 * thread, an irqfd written by a device process) to the guest handler's first instruction, an {@code
 * out} that exits, as seen by the VMM thread when {@code run()} returns: so the exit's hand-off to
 * the VMM thread is included ({@link WakeupFloors} measures it apart).
 *
 * <p>Per sample: the VMM thread arms the trigger thread and enters {@code run()}; the trigger
 * thread waits 200 us (the vCPU is back in its busy loop or its {@code hlt} by then), signals, and
 * hands the signal's time to the VMM thread, which subtracts it from {@link System#nanoTime()}
 * after {@code run()} returned. Both times are CLOCK_MONOTONIC, also across processes. A lost
 * interrupt kicks the vCPU after 5 s and fails the row.
 */
final class IrqLatency {
  private IrqLatency() {}

  private static final long SPACING_NS = 200_000;
  private static final long LOST_MS = 5000;

  /**
   * One row: latencies in nanoseconds.
   *
   * @param placement where the VMM thread, the vCPU engine, the irqfd thread and the writer ran
   */
  record Row(String source, LatencyGuest.Wait waits, Histogram ns, String placement) {}

  /**
   * Measures {@code samples} interrupts from {@code source} after {@code warmup} unrecorded ones:
   * the VMM thread (and so the vCPU's engine thread, which inherits it) pinned to {@code cpu}, the
   * trigger thread and the kernel side's irqfd thread to {@code writerCpu}.
   */
  static Row measure(
      IrqSource source, LatencyGuest.Wait wait, int warmup, int samples, int cpu, int writerCpu)
      throws InterruptedException {
    Affinity.pinThisThread(Affinity.cpu(cpu));
    Histogram ns = Measurement.newHistogram();
    String placement;
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm();
        Arena arena = Arena.ofShared()) {
      vm.createIrqchip();
      try (VcpuFd vcpu = LatencyGuest.create(vm, arena, wait, source.level())) {
        source.attach(vm);
        String irqfdThread = pinIrqfdThread(source, writerCpu);
        Semaphore taken = new Semaphore(0);
        try (Trigger trigger =
            new Trigger(
                source.label(),
                "irq-trigger",
                writerCpu,
                SPACING_NS,
                source::signal,
                () -> {
                  if (!taken.tryAcquire(LOST_MS, TimeUnit.MILLISECONDS)) {
                    vcpu.kick();
                  }
                  return 0;
                },
                vcpu::kick)) {
          for (int i = 0; i < warmup + samples; i++) {
            trigger.arm();
            VcpuExit exit = vcpu.run();
            long t1 = System.nanoTime();
            if (!trigger.failed()
                && (!(exit instanceof VcpuExit.IoOut o) || o.port() != LatencyGuest.HANDLER_PORT)) {
              throw new BenchException(
                  "cannot measure "
                      + source.label()
                      + ": the latency guest stopped with "
                      + exit
                      + (exit instanceof VcpuExit.Intr ? " (the interrupt was lost)" : ""));
            }
            long t0 = trigger.take(LOST_MS);
            taken.release();
            if (i >= warmup) {
              ns.recordValue(Math.max(1, t1 - t0));
            }
          }
          placement =
              "VMM thread and vCPU engine on cpu "
                  + cpu
                  + ", irqfd thread "
                  + irqfdThread
                  + ", trigger thread on cpu "
                  + writerCpu
                  + ", writer: "
                  + source.writerPlace();
        }
      }
    }
    return new Row(source.label(), wait, ns, placement);
  }

  /**
   * Pins the kernel side's irqfd thread of this process (at most one lives: one VM at a time) to
   * {@code writerCpu}, the signalling thread's CPU; "none" when the source makes none. The thread
   * names itself once it runs, so it is looked for during up to 2 s.
   */
  private static String pinIrqfdThread(IrqSource source, int writerCpu)
      throws InterruptedException {
    if (!source.usesIrqfd()) {
      return "none";
    }
    int pid = Processes.getpid();
    long deadline = System.nanoTime() + 2_000_000_000L;
    do {
      for (Affinity.ThreadPlace t : Affinity.threads(pid)) {
        if (t.name().endsWith("-irqfd")) {
          Affinity.schedSetaffinity(t.tid(), Affinity.cpu(writerCpu));
          return "on cpu " + writerCpu;
        }
      }
      Thread.sleep(1);
    } while (System.nanoTime() < deadline);
    throw new BenchException("cannot place the irqfd thread: no thread named vmN-irqfd");
  }
}
