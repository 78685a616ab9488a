package dev.toykvm.bench;

import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Affinity;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Poll;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * The pieces of an interrupt's latency that can be measured apart, in the same run: the wake-up of
 * a thread blocked in {@code poll(2)} on an eventfd (what the kernel side's irqfd thread does), and
 * an exit's round trip through {@code run()} (what the latency rows' last step costs, twice).
 */
final class WakeupFloors {
  private WakeupFloors() {}

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
    try {
      SynchronousQueue<Boolean> armed = new SynchronousQueue<>();
      LinkedBlockingQueue<Long> stamps = new LinkedBlockingQueue<>();
      Thread writer =
          Thread.ofPlatform()
              .name("eventfd-writer")
              .start(
                  () -> {
                    Affinity.pinThisThread(Affinity.cpu(writerCpu));
                    try {
                      while (true) {
                        armed.take();
                        LockSupport.parkNanos(200_000);
                        long t = System.nanoTime();
                        Eventfd.signal(fd);
                        stamps.put(t);
                      }
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  });
      try {
        for (int i = 0; i < warmup + samples; i++) {
          armed.put(Boolean.TRUE);
          if (!Poll.poll(fd, 5000).readable()) {
            throw new BenchException("cannot measure the eventfd wake-up: no write within 5 s");
          }
          long t1 = System.nanoTime();
          Eventfd.drain(fd);
          Long t0 = stamps.poll(5, TimeUnit.SECONDS);
          if (t0 == null) {
            throw new BenchException("cannot measure the eventfd wake-up: no write time");
          }
          if (i >= warmup) {
            ns.recordValue(Math.max(1, t1 - t0));
          }
        }
      } finally {
        writer.interrupt();
        writer.join();
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
      byte[] code = {(byte) 0xe6, (byte) LatencyGuest.HANDLER_PORT, (byte) 0xeb, (byte) 0xfc};
      for (int i = 0; i < code.length; i++) {
        ram.set(ValueLayout.JAVA_BYTE, 0x1000 + i, code[i]);
      }
      vm.setUserMemoryRegion(new KvmUserspaceMemoryRegion(0, 0, 0, ram.byteSize(), ram));
      try (VcpuFd vcpu = vm.createVcpu(0)) {
        vcpu.setSregs(
            vcpu.getSregs()
                .withCs(KvmSegment.realMode(0, true))
                .withDataSegments(KvmSegment.realMode(0, false))
                .withTables(new KvmDtable(0, 0xffff), new KvmDtable(0, 0x3ff)));
        vcpu.setRegs(vcpu.getRegs().withRip(0x1000).withRsp(0x8000).withRflags(2));
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
        SynchronousQueue<Boolean> armed = new SynchronousQueue<>();
        LinkedBlockingQueue<Long> stamps = new LinkedBlockingQueue<>();
        Thread kicker =
            Thread.ofPlatform()
                .name("kicker")
                .start(
                    () -> {
                      Affinity.pinThisThread(Affinity.cpu(writerCpu));
                      try {
                        while (true) {
                          armed.take();
                          LockSupport.parkNanos(200_000);
                          long t = System.nanoTime();
                          vcpu.kick();
                          stamps.put(t);
                        }
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                    });
        try {
          for (int i = 0; i < warmup + samples; i++) {
            armed.put(Boolean.TRUE);
            VcpuExit exit = vcpu.run();
            long t1 = System.nanoTime();
            Long t0 = stamps.poll(5, TimeUnit.SECONDS);
            if (!(exit instanceof VcpuExit.Intr) || t0 == null) {
              throw new BenchException("the kick guest stopped with " + exit);
            }
            if (i >= warmup) {
              ns.recordValue(Math.max(1, t1 - t0));
            }
          }
        } finally {
          kicker.interrupt();
          kicker.join();
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
      int[] main = {0xfb, 0xe6, 0xf7, 0xeb, 0xfc};
      int[] handler = {0xe6, LatencyGuest.HANDLER_PORT, 0xcf};
      int[] vector = {0x00, 0x11, 0x00, 0x00};
      for (int i = 0; i < main.length; i++) {
        ram.set(ValueLayout.JAVA_BYTE, 0x1000 + i, (byte) main[i]);
      }
      for (int i = 0; i < handler.length; i++) {
        ram.set(ValueLayout.JAVA_BYTE, 0x1100 + i, (byte) handler[i]);
      }
      for (int i = 0; i < vector.length; i++) {
        ram.set(ValueLayout.JAVA_BYTE, 0x20 * 4 + i, (byte) vector[i]);
      }
      vm.setUserMemoryRegion(new KvmUserspaceMemoryRegion(0, 0, 0, ram.byteSize(), ram));
      try (VcpuFd vcpu = vm.createVcpu(0)) {
        vcpu.setSregs(
            vcpu.getSregs()
                .withCs(KvmSegment.realMode(0, true))
                .withDataSegments(KvmSegment.realMode(0, false))
                .withTables(new KvmDtable(0, 0xffff), new KvmDtable(0, 0x3ff)));
        vcpu.setRegs(vcpu.getRegs().withRip(0x1000).withRsp(0x8000).withRflags(2));
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
