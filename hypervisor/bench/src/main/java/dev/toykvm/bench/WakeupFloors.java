package dev.toykvm.bench;

import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Affinity;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Poll;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.HdrHistogram.Histogram;

/**
 * The pieces of an interrupt's latency that can be measured apart, in the same run: the wake-up of
 * a thread blocked in {@code poll(2)} on an eventfd (what the kernel side's irqfd thread does), and
 * an exit's round trip through {@code run()} (what the latency rows' last step costs, twice).
 */
final class WakeupFloors {
  private WakeupFloors() {}

  /** How long a trigger waits after being armed: the waiting side is back in its wait by then. */
  private static final long SPACING_NS = 200_000;

  /**
   * A thread pinned to {@code pollerCpu} waits in {@code poll} on an eventfd; another, pinned to
   * {@code writerCpu}, writes it 200 us after the poller is armed; the poller subtracts the
   * writer's time from its own when {@code poll} returns.
   */
  static Histogram eventfdWake(int pollerCpu, int writerCpu, int warmup, int samples)
      throws InterruptedException {
    Affinity.pinThisThread(Affinity.cpu(pollerCpu));
    Histogram ns = Measurement.newHistogram();
    int fd = Eventfd.create();
    try (Trigger writer =
        new Trigger(
            "the eventfd wake-up",
            "eventfd-writer",
            writerCpu,
            SPACING_NS,
            () -> {
              long t = System.nanoTime();
              Eventfd.signal(fd);
              return t;
            })) {
      for (int i = 0; i < warmup + samples; i++) {
        writer.arm();
        if (!Poll.poll(fd, 5000).readable()) {
          throw new BenchException("cannot measure the eventfd wake-up: no write within 5 s");
        }
        long t1 = System.nanoTime();
        Eventfd.drain(fd);
        long t0 = writer.take(5000);
        if (i >= warmup) {
          ns.recordValue(Math.max(1, t1 - t0));
        }
      }
    } finally {
      Fds.close(fd);
    }
    return ns;
  }

  /**
   * The guest {@code l: out %al,$0xf5; jmp l} in real mode; each sample is one {@code run()}, from
   * the call to its return with the {@code out}: the request to the engine thread, a few guest
   * instructions, the exit's hand-off back. The VMM thread and the engine on {@code cpu}.
   */
  static Histogram exitRoundTrip(int cpu, int warmup, int samples) {
    Affinity.pinThisThread(Affinity.cpu(cpu));
    Histogram ns = Measurement.newHistogram();
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm();
        Arena arena = Arena.ofShared()) {
      vm.createIrqchip();
      MemorySegment ram = arena.allocate(1 << 16, 4096);
      // l: out %al,$0xf5; jmp l
      LatencyGuest.put(ram, 0x1000, new int[] {0xe6, LatencyGuest.HANDLER_PORT, 0xeb, 0xfc});
      try (VcpuFd vcpu = LatencyGuest.realModeVcpu(vm, ram)) {
        for (int i = 0; i < warmup + samples; i++) {
          long t0 = System.nanoTime();
          VcpuExit exit = vcpu.run();
          long t1 = System.nanoTime();
          if (!(exit instanceof VcpuExit.IoOut)) {
            throw new BenchException("the exit round-trip guest stopped with " + exit);
          }
          if (i >= warmup) {
            ns.recordValue(Math.max(1, t1 - t0));
          }
        }
      }
    }
    return ns;
  }

  /**
   * {@code VcpuFd.kick()} from a thread on {@code writerCpu} to {@code run()} returning {@code
   * KVM_EXIT_INTR} on the VMM thread ({@code cpu}), the latency guest waiting as {@code wait} with
   * no interrupt: the vCPU noticing (its block gate, or its wake from {@code hlt}) and the exit's
   * hand-off to the VMM thread, without the irqchip and the delivery.
   */
  static Histogram kickToExit(
      LatencyGuest.Wait wait, int cpu, int writerCpu, int warmup, int samples)
      throws InterruptedException {
    Affinity.pinThisThread(Affinity.cpu(cpu));
    Histogram ns = Measurement.newHistogram();
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm();
        Arena arena = Arena.ofShared()) {
      vm.createIrqchip();
      try (VcpuFd vcpu = LatencyGuest.create(vm, arena, wait, false)) {
        try (Trigger kicker =
            new Trigger(
                "the kick",
                "kicker",
                writerCpu,
                SPACING_NS,
                () -> {
                  long t = System.nanoTime();
                  vcpu.kick();
                  return t;
                })) {
          for (int i = 0; i < warmup + samples; i++) {
            kicker.arm();
            VcpuExit exit = vcpu.run();
            long t1 = System.nanoTime();
            if (!(exit instanceof VcpuExit.Intr)) {
              throw new BenchException("the kick guest stopped with " + exit);
            }
            long t0 = kicker.take(5000);
            if (i >= warmup) {
              ns.recordValue(Math.max(1, t1 - t0));
            }
          }
        }
      }
    }
    return ns;
  }

  /**
   * The delivery itself: a VM without the irqchip, the guest {@code sti; l: out %al,$0xf7; jmp l}
   * in real mode, IVT[0x20] -> a handler {@code out %al,$0xf5; iret}. Each sample queues vector
   * 0x20 with {@code KVM_INTERRUPT} and times the {@code run()} that delivers it through the IVT
   * and returns with the handler's {@code out}: {@link #exitRoundTrip}'s path plus the delivery.
   */
  static Histogram deliveryRoundTrip(int cpu, int warmup, int samples) {
    Affinity.pinThisThread(Affinity.cpu(cpu));
    Histogram ns = Measurement.newHistogram();
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm();
        Arena arena = Arena.ofShared()) {
      MemorySegment ram = arena.allocate(1 << 16, 4096);
      LatencyGuest.put(ram, 0x1000, new int[] {0xfb, 0xe6, 0xf7, 0xeb, 0xfc});
      LatencyGuest.put(ram, 0x1100, new int[] {0xe6, LatencyGuest.HANDLER_PORT, 0xcf});
      LatencyGuest.put(ram, 0x20 * 4, new int[] {0x00, 0x11, 0x00, 0x00});
      try (VcpuFd vcpu = LatencyGuest.realModeVcpu(vm, ram)) {
        expect(vcpu.run(), 0xf7);
        for (int i = 0; i < warmup + samples; i++) {
          vcpu.interrupt(0x20);
          long t0 = System.nanoTime();
          VcpuExit exit = vcpu.run();
          long t1 = System.nanoTime();
          expect(exit, LatencyGuest.HANDLER_PORT);
          expect(vcpu.run(), 0xf7); // the iret, back to the loop
          if (i >= warmup) {
            ns.recordValue(Math.max(1, t1 - t0));
          }
        }
      }
    }
    return ns;
  }

  private static void expect(VcpuExit exit, int port) {
    if (!(exit instanceof VcpuExit.IoOut o) || o.port() != port) {
      throw new BenchException("the delivery guest stopped with " + exit);
    }
  }
}
