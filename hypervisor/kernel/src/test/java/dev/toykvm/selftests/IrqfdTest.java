package dev.toykvm.selftests;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmIrqfd;
import dev.toykvm.kvm.KvmStat;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Pipe;
import dev.toykvm.posix.Poll;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * {@code KVM_IRQFD}: an eventfd signal raises its GSI inside the kernel side, waking the guest from
 * {@code hlt} with no exit; resampling keeps a level-triggered line up until the EOI and tells the
 * resamplefd once per EOI; deassign; every errno KVM gives.
 */
@Timeout(60)
class IrqfdTest {
  /** An I/O APIC redirection entry's low dword: {@code vector}, fixed, physical APIC 0. */
  static int edge(int vector) {
    return vector;
  }

  static int level(int vector) {
    return vector | 0x8000;
  }

  private static void assertErrno(Errno errno, Executable call) {
    KvmException e = assertThrows(KvmException.class, call);
    assertEquals(errno, e.errno(), e.getMessage());
  }

  private static boolean readable(int fd) {
    return Poll.poll(fd, 0).readable();
  }

  @Test
  void anEdgeIrqfdWakesTheGuestFromHlt() {
    int device = Eventfd.create(); // the device's copy
    try (IrqGuest g = IrqGuest.create(17, edge(0x50)).handler(0x50)) {
      int vmmCopy = Fds.dup(device);
      g.vm.irqfd(KvmIrqfd.ZERO.withFd(vmmCopy).withGsi(17));
      Fds.close(vmmCopy); // the kernel side keeps its own reference, as KVM does
      g.runUntilHalted(); // the I/O APIC, the local APIC and the hlt: no exit at all
      for (int round = 0; round < 3; round++) {
        CompletableFuture<Void> signal = CompletableFuture.runAsync(() -> Eventfd.signal(device));
        assertEquals(new VcpuExit.IoOut(0x80, 1, 0x50), g.run()); // the handler, from hlt
        signal.join();
        assertEquals(g.afterHlt(), g.savedEip());
        assertEquals(new VcpuExit.IoOut(0x81, 1, 0x50), g.run()); // EOI; iretd back to hlt
        g.runUntilHalted();
      }
    } finally {
      Fds.close(device);
    }
  }

  /**
   * A device's signal to a halted vCPU is injected by that vCPU itself, woken by the eventfd (its
   * HaltPoller), not by the irqfd thread: the thread's attachment comes after the vCPU's. Each
   * round the signal comes a little after the vCPU went back to hlt, so that it is (usually)
   * already waiting; a round where it is not is injected by the thread, which is fine too.
   */
  @Test
  void aHaltedVcpuInjectsItsIrqfdItself() {
    int device = Eventfd.create();
    try (IrqGuest g = IrqGuest.create(17, edge(0x50)).handler(0x50)) {
      g.vm.irqfd(KvmIrqfd.ZERO.withFd(device).withGsi(17));
      g.runUntilHalted();
      for (int round = 0; round < 20 && byHaltedVcpu(g) == 0; ) {
        round++;
        CompletableFuture<Void> signal =
            CompletableFuture.runAsync(
                () -> Eventfd.signal(device),
                CompletableFuture.delayedExecutor(20, TimeUnit.MILLISECONDS));
        assertEquals(new VcpuExit.IoOut(0x80, 1, 0x50), g.run());
        signal.join();
        assertEquals(new VcpuExit.IoOut(0x81, 1, 0x50), g.run());
        g.runUntilHalted();
      }
      assertTrue(byHaltedVcpu(g) > 0, "no signal in 20 rounds was injected by the halted vCPU");
    } finally {
      Fds.close(device);
    }
  }

  private static long byHaltedVcpu(IrqGuest g) {
    return KvmStat.find(g.vm.getStats(), "irqfd_injections_by_halted_vcpu").orElseThrow();
  }

  @Test
  void anEdgeIrqfdSignalledManyTimesBeforeTheThreadRunsIsOneInterrupt() {
    int efd = Eventfd.create();
    try (IrqGuest g = IrqGuest.create(17, edge(0x50)).handler(0x50)) {
      g.runUntilHalted(); // the pin is programmed: an edge before that would be lost
      for (int i = 0; i < 5; i++) {
        Eventfd.signal(efd); // already signalled at assignment: injected at once, as KVM does
      }
      g.vm.irqfd(KvmIrqfd.ZERO.withFd(efd).withGsi(17));
      await().atMost(Duration.ofSeconds(10)).until(() -> !readable(efd)); // the counter was read
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x50), g.run());
      assertEquals(new VcpuExit.IoOut(0x81, 1, 0x50), g.run());
      g.runUntilHalted(); // one interrupt for the five signals
    } finally {
      Fds.close(efd);
    }
  }

  /**
   * GSI 10 goes to the slave PIC's IRQ 10 (level-triggered in ELCR, masked) and to I/O APIC pin 10
   * (level-triggered, vector 0x60). The handler reads the slave's IRR, which follows a level line:
   * the line is up while the handler runs and down after the I/O APIC's EOI.
   */
  private static IrqGuest resampleGuest() {
    IrqGuest g = IrqGuest.create(10, level(0x60));
    // PIC pair initialised and fully masked, IRQ 10 level-triggered, OCW3 "read IRR" on the slave.
    List<Integer> pic =
        new ArrayList<>(
            List.of(
                0xb0, 0x11, 0xe6, 0x20, 0xe6, 0xa0, // ICW1 to both
                0xb0, 0x20, 0xe6, 0x21, // master ICW2: vectors 0x20-0x27
                0xb0, 0x28, 0xe6, 0xa1, // slave ICW2: vectors 0x28-0x2f
                0xb0, 0x04, 0xe6, 0x21, // master ICW3
                0xb0, 0x02, 0xe6, 0xa1, // slave ICW3
                0xb0, 0x01, 0xe6, 0x21, 0xe6, 0xa1, // ICW4: 8086 mode
                0xb0, 0xff, 0xe6, 0x21, 0xe6, 0xa1, // OCW1: everything masked
                0xb0, 0x04, 0x66, 0xba, 0xd1, 0x04, 0xee, // ELCR2: IRQ 10 level-triggered
                0xb0, 0x0a, 0xe6, 0xa0, // OCW3: reads of 0xa0 return IRR
                0xea)); // jmp far 0x08:MAIN (the I/O APIC setup)
    for (int b : new int[] {IrqGuest.MAIN & 0xff, IrqGuest.MAIN >>> 8, 0, 0, 0x08, 0}) {
      pic.add(b);
    }
    g.t.load(0x1000, pic.stream().mapToInt(Integer::intValue).toArray());
    g.t.vcpu.setRegs(g.t.vcpu.getRegs().withRip(0x1000));
    List<Integer> handler = new ArrayList<>(List.of(0xe4, 0xa0, 0xe6, 0x80)); // in al, 0xa0; out
    IrqGuest.mov(handler, 0xfee000b0L, 0); // EOI: the line goes down, resamplefd is told
    handler.addAll(List.of(0xe4, 0xa0, 0xe6, 0x81, 0xcf)); // in al, 0xa0; out 0x81; iretd
    return g.handler(0x60, handler);
  }

  @Test
  void aResamplingIrqfdHoldsTheLineUntilTheEoiAndTellsTheResamplefdOncePerEoi() {
    int efd = Eventfd.create();
    int resample = Eventfd.create();
    try (IrqGuest g = resampleGuest()) {
      g.vm.irqfd(KvmIrqfd.ZERO.withFd(efd).withGsi(10).withResample(resample));
      g.runUntilHalted();
      for (int round = 0; round < 3; round++) {
        CompletableFuture<Void> device = CompletableFuture.runAsync(() -> Eventfd.signal(efd));
        assertEquals(new VcpuExit.IoOut(0x80, 1, 0x04), g.run()); // IRQ 10 still asserted
        device.join();
        assertFalse(readable(resample), "resampled before the EOI");
        for (int i = 0; i < 5; i++) {
          Eventfd.signal(efd); // still asserted: no second message (Remote IRR), one line
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> !readable(efd));
        assertEquals(new VcpuExit.IoOut(0x81, 1, 0x00), g.run()); // the EOI lowered it
        assertEquals(1, Eventfd.drain(resample), "one resample per EOI");
        g.runUntilHalted(); // lowered: not sent again until the device writes again
        assertFalse(readable(resample));
      }
    } finally {
      Fds.close(efd);
      Fds.close(resample);
    }
  }

  @Test
  void aResamplingIrqfdOnAPicLineIsResampledAtThePicsEoi() {
    int efd = Eventfd.create();
    int resample = Eventfd.create();
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      vm.createIrqchip();
      try (TestVm t = new TestVm(vm)) {
        t.load(
            0x1000, 0xb0, 0x11, 0xe6, 0x20, // ICW1
            0xb0, 0x08, 0xe6, 0x21, //         ICW2: vectors 8-15
            0xb0, 0x04, 0xe6, 0x21, //         ICW3
            0xb0, 0x01, 0xe6, 0x21, //         ICW4
            0xb0, 0xf7, 0xe6, 0x21, //         OCW1: only IRQ 3
            0xb0, 0x08, 0xba, 0xd0, 0x04, 0xee, // ELCR1: IRQ 3 level-triggered (out dx, al)
            0xb0, 0x0a, 0xe6, 0x20, //         OCW3: reads of 0x20 return IRR
            0xfb, //                     loop: sti
            0xf4, //                           hlt
            0xeb, 0xfc); //                    jmp loop
        t.load(
            0x1100, 0xe4, 0x20, 0xe6, 0x80, // in al, 0x20 (IRR); out 0x80, al
            0xb0, 0x20, 0xe6, 0x20, //         OCW2: non-specific EOI
            0xe4, 0x20, 0xe6, 0x81, //         in al, 0x20; out 0x81, al
            0xcf); //                          iret
        t.load(11 * 4, 0x00, 0x11, 0x00, 0x00); // IVT[11] = 0000:1100
        t.realMode(0x1000);
        vm.irqfd(KvmIrqfd.ZERO.withFd(efd).withGsi(3).withResample(resample));
        IrqGuest.runUntilHalted(t.vcpu); // the PIC programmed (ICW1 forgets input levels)
        Eventfd.signal(efd);
        assertEquals(new VcpuExit.IoOut(0x80, 1, 0x08), IrqGuest.run(t.vcpu)); // IRR 3: up
        assertFalse(readable(resample));
        assertEquals(new VcpuExit.IoOut(0x81, 1, 0x00), IrqGuest.run(t.vcpu)); // down at the EOI
        assertEquals(1, Eventfd.drain(resample));
        Eventfd.signal(efd); // the device still wants service: raised again
        assertEquals(new VcpuExit.IoOut(0x80, 1, 0x08), IrqGuest.run(t.vcpu));
      }
    } finally {
      Fds.close(efd);
      Fds.close(resample);
    }
  }

  @Test
  void deassignStopsDeliveryAndReleasesTheEventfd() {
    int old = Eventfd.create();
    int other = Eventfd.create();
    try (IrqGuest g = IrqGuest.create(17, edge(0x60), 18, edge(0x50)).handler(0x60).handler(0x50)) {
      g.vm.irqfd(KvmIrqfd.ZERO.withFd(old).withGsi(17));
      g.vm.irqfd(KvmIrqfd.ZERO.withFd(other).withGsi(18));
      g.runUntilHalted();
      Eventfd.signal(old);
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x60), g.run());
      assertEquals(new VcpuExit.IoOut(0x81, 1, 0x60), g.run());
      g.vm.irqfd(KvmIrqfd.ZERO.withFd(old).withGsi(4).deassign()); // another GSI: nothing
      g.vm.irqfd(KvmIrqfd.ZERO.withFd(old).withGsi(17).deassign());
      Eventfd.signal(old);
      Eventfd.signal(other);
      // The thread took the other irqfd's signal; the old one's is left unread, and its vector,
      // of a higher priority class, never comes first.
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x50), g.run());
      assertTrue(readable(old), "the deassigned eventfd was read");
      assertEquals(new VcpuExit.IoOut(0x81, 1, 0x50), g.run());
      g.runUntilHalted();
      assertEquals(1, Eventfd.drain(old));
      g.vm.irqfd(KvmIrqfd.ZERO.withFd(old).withGsi(17)); // free again: assignable
    } finally {
      Fds.close(old);
      Fds.close(other);
    }
  }

  @Test
  void errnosAsKvm() {
    int efd = Eventfd.create();
    int resample = Eventfd.create();
    Pipe pipe = Fds.pipe2();
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      assertEquals(1, vm.checkExtension(KvmConstants.KVM_CAP_IRQFD));
      assertEquals(1, vm.checkExtension(KvmConstants.KVM_CAP_IRQFD_RESAMPLE));
      assertEquals(1, kvm.checkExtension(KvmConstants.KVM_CAP_IRQFD));
      KvmIrqfd good = KvmIrqfd.ZERO.withFd(efd).withGsi(5);
      assertErrno(Errno.EINVAL, () -> vm.irqfd(good)); // no irqchip (kvm_arch_irqfd_allowed)
      assertErrno(Errno.EINVAL, () -> vm.irqfd(good.withResample(resample)));
      vm.irqfd(good.deassign()); // deassign needs no irqchip: nothing to remove, no error
      vm.createIrqchip();
      assertErrno(Errno.EFAULT, () -> vm.irqfd(null));
      assertErrno(Errno.EINVAL, () -> vm.irqfd(good.withFlags(4)));
      assertErrno(Errno.EBADF, () -> vm.irqfd(good.withFd(-1)));
      assertErrno(Errno.EBADF, () -> vm.irqfd(good.withFd(1 << 20)));
      assertErrno(Errno.EINVAL, () -> vm.irqfd(good.withFd(pipe.readFd()))); // not an eventfd
      assertErrno(Errno.EBADF, () -> vm.irqfd(good.withResample(-1)));
      assertErrno(Errno.EINVAL, () -> vm.irqfd(good.withResample(pipe.writeFd())));
      assertErrno(Errno.EBADF, () -> vm.irqfd(good.withFd(-1).deassign()));
      assertErrno(Errno.EINVAL, () -> vm.irqfd(good.withFd(pipe.readFd()).deassign()));
      vm.irqfd(good);
      assertErrno(Errno.EBUSY, () -> vm.irqfd(good)); // the same eventfd twice
      assertErrno(Errno.EBUSY, () -> vm.irqfd(good.withGsi(6))); // on any GSI
      int dup = Fds.dup(efd);
      try {
        assertErrno(Errno.EBUSY, () -> vm.irqfd(good.withFd(dup))); // the same eventfd
        vm.irqfd(good.withFd(dup).deassign()); // and deassign finds it through a duplicate
      } finally {
        Fds.close(dup);
      }
      vm.irqfd(good.withResample(resample)); // free again
      vm.irqfd(good.withGsi(99).deassign()); // no such irqfd: no error, as in KVM
      vm.close();
      assertErrno(Errno.EBADF, () -> vm.irqfd(good));
    } finally {
      Fds.close(efd);
      Fds.close(resample);
      pipe.close();
    }
  }
}
