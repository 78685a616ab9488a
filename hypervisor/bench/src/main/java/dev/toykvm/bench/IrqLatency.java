package dev.toykvm.bench;

import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Affinity;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Interrupt delivery latency for {@code toykvm bench guest-speed}: another thread raises GSI 1 with
 * {@code KVM_IRQ_LINE} (toykvm has no irqfd yet: this is the in-kernel part of "a device signals
 * its irqfd") while the guest spins with IF=1 in real mode; the handler's first instruction is an
 * {@code out} to port 0xf5, so the time to that exit reaching the VMM thread is the latency, the
 * exit's hand-off to the VMM (a few microseconds) included.
 */
final class IrqLatency {
  private IrqLatency() {}

  private static final int HANDLER_PORT = 0xf5;

  /**
   * Real mode: the PICs initialised (vector base 8, only IRQ 1 unmasked), IVT[9] -> 0000:1100, sti,
   * {@code jmp $}; at 0x1100: {@code out 0xf5, al; mov al, 0x20; out 0x20, al; iret}.
   */
  private static final int[] CODE = {
    0xb0, 0x11, 0xe6, 0x20, 0xb0, 0x08, 0xe6, 0x21, 0xb0, 0x04, 0xe6, 0x21, 0xb0, 0x01, 0xe6, 0x21,
    0xb0, 0xfd, 0xe6, 0x21, 0xfb, 0xeb, 0xfe
  };

  private static final int[] HANDLER = {0xe6, HANDLER_PORT, 0xb0, 0x20, 0xe6, 0x20, 0xcf};

  /**
   * Latencies in microseconds, one per sample: the VMM thread and the vCPU's engine thread pinned
   * to {@code cpu}, the raising thread (the device's side) to {@code raiserCpu}.
   */
  static double[] measure(int samples, int cpu, int raiserCpu) throws InterruptedException {
    Affinity.pinThisThread(Affinity.cpu(cpu));
    double[] micros = new double[samples];
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm();
        Arena arena = Arena.ofShared()) {
      MemorySegment ram = arena.allocate(1 << 20, 4096);
      put(ram, 0x1000, CODE);
      put(ram, 0x1100, HANDLER);
      put(ram, 9 * 4, new int[] {0x00, 0x11, 0x00, 0x00});
      vm.createIrqchip();
      vm.setUserMemoryRegion(new KvmUserspaceMemoryRegion(0, 0, 0, ram.byteSize(), ram));
      try (VcpuFd vcpu = vm.createVcpu(0)) {
        vcpu.setSregs(
            vcpu.getSregs()
                .withCs(KvmSegment.realMode(0, true))
                .withDataSegments(KvmSegment.realMode(0, false))
                .withTables(new KvmDtable(0, 0xffff), new KvmDtable(0, 0x3ff)));
        vcpu.setRegs(vcpu.getRegs().withRip(0x1000).withRsp(0x8000).withRflags(2));
        SynchronousQueue<Long> armed = new SynchronousQueue<>();
        AtomicLongArray raisedAt = new AtomicLongArray(samples);
        Thread raiser =
            Thread.ofPlatform()
                .name("irq-raiser")
                .start(
                    () -> {
                      Affinity.pinThisThread(Affinity.cpu(raiserCpu));
                      try {
                        for (int i = 0; i < samples; i++) {
                          armed.take();
                          // Let the VMM thread get back into run() and the guest spin.
                          LockSupport.parkNanos(200_000);
                          raisedAt.set(i, System.nanoTime());
                          vm.irqLine(1, 1);
                          vm.irqLine(1, 0);
                        }
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                    });
        try {
          for (int i = 0; i < samples; i++) {
            armed.put(1L);
            VcpuExit exit = vcpu.run();
            long t1 = System.nanoTime();
            if (!(exit instanceof VcpuExit.IoOut o) || o.port() != HANDLER_PORT) {
              throw new BenchException("the latency guest stopped with " + exit);
            }
            micros[i] = (t1 - raisedAt.get(i)) / 1e3;
          }
        } finally {
          raiser.interrupt();
          raiser.join();
        }
      }
    }
    return micros;
  }

  private static void put(MemorySegment ram, long at, int[] bytes) {
    for (int i = 0; i < bytes.length; i++) {
      ram.set(java.lang.foreign.ValueLayout.JAVA_BYTE, at + i, (byte) bytes[i]);
    }
  }
}
