package dev.toykvm.bench;

import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Affinity;
import dev.toykvm.posix.Processes;
import java.lang.foreign.Arena;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
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
        SynchronousQueue<Boolean> armed = new SynchronousQueue<>();
        LinkedBlockingQueue<Long> stamps = new LinkedBlockingQueue<>();
        Semaphore taken = new Semaphore(0);
        AtomicReference<RuntimeException> failed = new AtomicReference<>();
        Thread trigger =
            Thread.ofPlatform()
                .name("irq-trigger")
                .start(
                    () -> {
                      Affinity.pinThisThread(Affinity.cpu(writerCpu));
                      try {
                        while (true) {
                          armed.take();
                          LockSupport.parkNanos(SPACING_NS);
                          stamps.put(source.signal());
                          if (!taken.tryAcquire(LOST_MS, TimeUnit.MILLISECONDS)) {
                            vcpu.kick();
                          }
                        }
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      } catch (RuntimeException e) {
                        failed.set(e);
                        stamps.offer(Long.MIN_VALUE);
                        vcpu.kick();
                      }
                    });
        try {
          for (int i = 0; i < warmup + samples; i++) {
            armed.put(Boolean.TRUE);
            VcpuExit exit = vcpu.run();
            long t1 = System.nanoTime();
            Long t0 = stamps.poll(LOST_MS, TimeUnit.MILLISECONDS);
            if (failed.get() != null) {
              throw new BenchException(
                  "cannot measure " + source.label() + ": " + failed.get().getMessage());
            }
            if (!(exit instanceof VcpuExit.IoOut o) || o.port() != LatencyGuest.HANDLER_PORT) {
              throw new BenchException(
                  "cannot measure "
                      + source.label()
                      + ": the latency guest stopped with "
                      + exit
                      + (exit instanceof VcpuExit.Intr ? " (the interrupt was lost)" : ""));
            }
            if (t0 == null || t0 == Long.MIN_VALUE) {
              throw new BenchException("cannot measure " + source.label() + ": no signal time");
            }
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
        } finally {
          trigger.interrupt();
          trigger.join();
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
