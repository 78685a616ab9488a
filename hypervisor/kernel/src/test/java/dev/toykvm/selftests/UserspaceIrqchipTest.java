package dev.toykvm.selftests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * The userspace-irqchip path (no {@code KVM_CREATE_IRQCHIP}): {@code KVM_INTERRUPT}, {@code
 * request_interrupt_window} and {@code KVM_EXIT_IRQ_WINDOW_OPEN}, {@code
 * ready_for_interrupt_injection} and {@code if_flag}, in real mode through the IVT.
 */
@Timeout(30)
class UserspaceIrqchipTest {
  private static void assertErrno(Errno errno, Executable call) {
    KvmException e = assertThrows(KvmException.class, call);
    assertEquals(errno, e.errno(), e.getMessage());
  }

  /** The handler of vector 0x20 at 0x1100: out 0x80 <- 0x42, iret. */
  private static void loadHandler(TestVm t) {
    t.load(
        0x1100, 0xb0, 0x42, // mov al, 0x42
        0xe6, 0x80, //         out 0x80, al
        0xcf); //              iret
    t.load(0x20 * 4, 0x00, 0x11, 0x00, 0x00); // IVT[0x20] = 0000:1100
  }

  private static int savedIp(TestVm t) {
    return t.ram.get(ValueLayout.JAVA_SHORT, t.vcpu.getRegs().rsp() & 0xffff) & 0xffff;
  }

  @Test
  void interruptErrors() {
    try (TestVm t = new TestVm()) {
      assertErrno(Errno.EINVAL, () -> t.vcpu.interrupt(-1));
      assertErrno(Errno.EINVAL, () -> t.vcpu.interrupt(256));
      t.load(0x1000, 0xfa, 0xf4); // cli; hlt
      t.realMode(0x1000);
      t.vcpu.interrupt(0x20);
      assertErrno(Errno.EEXIST, () -> t.vcpu.interrupt(0x21)); // the first one is still queued
      assertEquals(new VcpuExit.Hlt(), t.vcpu.run()); // IF=0: never taken
      assertErrno(Errno.EEXIST, () -> t.vcpu.interrupt(0x21));
      assertFalse(t.vcpu.readyForInterruptInjection());
      assertFalse(t.vcpu.ifFlag());
    }
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      vm.createIrqchip();
      try (VcpuFd vcpu = vm.createVcpu(0)) {
        assertErrno(Errno.ENXIO, () -> vcpu.interrupt(0x20)); // the PIC is in the kernel
        assertErrno(Errno.EINVAL, () -> vcpu.interrupt(300)); // the range is checked first
        vcpu.close();
        assertErrno(Errno.EBADF, () -> vcpu.interrupt(0x20));
      }
    }
  }

  @Test
  void queuedInterruptWaitsForIfAndTheStiShadow() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x1000, 0xfa, // cli
          0xe6, 0x83, //   out 0x83, al    <- KVM_INTERRUPT here
          0x90, //         nop
          0xe6, 0x84, //   out 0x84, al    <- not taken: IF=0
          0xfb, //         sti
          0x90, //         nop             <- the STI shadow
          0xe6, 0x85); //  out 0x85, al    <- taken before this one
      loadHandler(t);
      t.realMode(0x1000);
      assertEquals(new VcpuExit.IoOut(0x83, 1, 0), t.vcpu.run());
      assertFalse(t.vcpu.ifFlag());
      assertFalse(t.vcpu.readyForInterruptInjection());
      t.vcpu.interrupt(0x20);
      assertEquals(new VcpuExit.IoOut(0x84, 1, 0), t.vcpu.run());
      assertFalse(t.vcpu.readyForInterruptInjection()); // still queued
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x42), t.vcpu.run()); // the handler
      assertEquals(0x1008, savedIp(t)); // the out 0x85, after the shadowed nop
      assertFalse(t.vcpu.ifFlag()); // cleared by the delivery
      assertEquals(new VcpuExit.IoOut(0x85, 1, 0x42), t.vcpu.run());
      assertTrue(t.vcpu.ifFlag()); // iret restored it
      assertTrue(t.vcpu.readyForInterruptInjection()); // nothing queued, IF=1, no shadow
    }
  }

  @Test
  void windowExitWhenTheGuestCanTakeAnInterrupt() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x1000, 0xfa, // cli
          0xe6, 0x83, //   out 0x83, al
          0xfb, //         sti
          0x90, //         nop             <- the shadow: the window opens after it
          0xe6, 0x84); //  out 0x84, al
      loadHandler(t);
      t.realMode(0x1000);
      t.vcpu.setRequestInterruptWindow(true);
      assertEquals(new VcpuExit.IoOut(0x83, 1, 0), t.vcpu.run()); // IF=0: no window
      assertEquals(new VcpuExit.IrqWindowOpen(), t.vcpu.run());
      assertEquals(0x1005, t.vcpu.getRegs().rip()); // before the out 0x84
      assertTrue(t.vcpu.ifFlag());
      assertTrue(t.vcpu.readyForInterruptInjection());
      assertEquals(new VcpuExit.IrqWindowOpen(), t.vcpu.run()); // still open, nothing ran
      assertEquals(0x1005, t.vcpu.getRegs().rip());
      t.vcpu.interrupt(0x20); // queued: the window is no longer what stops the vCPU
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x42), t.vcpu.run());
      assertEquals(0x1005, savedIp(t));
      t.vcpu.setRequestInterruptWindow(false);
      assertEquals(new VcpuExit.IoOut(0x84, 1, 0x42), t.vcpu.run());
    }
  }

  @Test
  void hltStaysAnExitAndAQueuedInterruptWakesTheNextRun() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x1000, 0xfb, // sti
          0xf4, //         hlt             <- in the shadow: KVM_EXIT_HLT
          0xe6, 0x84); //  out 0x84, al
      loadHandler(t);
      t.realMode(0x1000);
      assertEquals(new VcpuExit.Hlt(), t.vcpu.run());
      assertTrue(t.vcpu.readyForInterruptInjection());
      t.vcpu.interrupt(0x20);
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x42), t.vcpu.run());
      assertEquals(0x1002, savedIp(t)); // after the hlt
      assertEquals(new VcpuExit.IoOut(0x84, 1, 0x42), t.vcpu.run());
    }
  }

  @Test
  void withAnIrqchipReadyIsAlwaysTrueAndTheWindowIsIgnored() {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      vm.createIrqchip();
      try (TestVm t = new TestVm(vm)) {
        t.load(0x1000, 0xfa, 0xe6, 0x83); // cli; out 0x83, al
        t.realMode(0x1000);
        t.vcpu.setRequestInterruptWindow(true);
        assertEquals(new VcpuExit.IoOut(0x83, 1, 0), t.vcpu.run());
        assertTrue(t.vcpu.readyForInterruptInjection());
        assertFalse(t.vcpu.ifFlag());
      }
    }
  }
}
