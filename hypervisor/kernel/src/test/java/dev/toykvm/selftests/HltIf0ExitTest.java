package dev.toykvm.selftests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/** {@code KVM_CAP_TOYKVM_HLT_IF0_EXIT}: a VMM hears of a {@code hlt} only a kick can end. */
@Timeout(30)
class HltIf0ExitTest {
  private static final int CAP = KvmConstants.KVM_CAP_TOYKVM_HLT_IF0_EXIT;

  private static void assertErrno(Errno errno, Executable call) {
    KvmException e = assertThrows(KvmException.class, call);
    assertEquals(errno, e.errno(), e.getMessage());
  }

  @Test
  void enableCapErrors() {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      assertEquals(1, vm.checkExtension(CAP));
      assertErrno(Errno.EINVAL, () -> vm.enableCap(CAP, 1)); // no irqchip yet
      vm.createIrqchip();
      assertErrno(Errno.EINVAL, () -> vm.enableCap(KvmConstants.KVM_CAP_IRQCHIP, 1));
      assertErrno(Errno.EINVAL, () -> vm.enableCap(CAP, 2));
      vm.enableCap(CAP, 1);
      vm.enableCap(CAP, 0);
      vm.close();
      assertErrno(Errno.EBADF, () -> vm.enableCap(CAP, 1));
    }
  }

  /** Kicks until run() returns Intr for a vCPU that waits in hlt. */
  private static VcpuExit runKicked(TestVm t) {
    CompletableFuture<Void> kicker = CompletableFuture.runAsync(() -> {}).thenRun(t.vcpu::kick);
    VcpuExit exit = t.vcpu.run();
    kicker.join();
    return exit;
  }

  @Test
  void hltWithIfClearExitsOnlyWhenEnabled() {
    for (boolean enabled : new boolean[] {true, false}) {
      try (Kvm kvm = Kvm.open();
          VmFd vm = kvm.createVm()) {
        vm.createIrqchip();
        vm.enableCap(CAP, enabled ? 1 : 0);
        try (TestVm t = new TestVm(vm)) {
          t.load(0x1000, 0xfa, 0xf4); // cli; hlt
          t.realMode(0x1000);
          if (enabled) {
            assertEquals(new VcpuExit.Hlt(), t.vcpu.run());
            assertEquals(0x1002, t.vcpu.getRegs().rip());
          } else {
            while (t.vcpu.getMpState() != KvmConstants.KVM_MP_STATE_HALTED) {
              assertEquals(new VcpuExit.Intr(), runKicked(t));
            }
          }
          assertEquals(KvmConstants.KVM_MP_STATE_HALTED, t.vcpu.getMpState());
          // Either way the next run() waits in the kernel side, as KVM's would.
          assertEquals(new VcpuExit.Intr(), runKicked(t));
          assertEquals(KvmConstants.KVM_MP_STATE_HALTED, t.vcpu.getMpState());
        }
      }
    }
  }

  @Test
  void hltWithIfSetStillWaits() {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      vm.createIrqchip();
      vm.enableCap(CAP, 1);
      try (TestVm t = new TestVm(vm)) {
        t.load(0x1000, 0xfb, 0xf4); // sti; hlt
        t.realMode(0x1000);
        while (t.vcpu.getMpState() != KvmConstants.KVM_MP_STATE_HALTED) {
          assertEquals(new VcpuExit.Intr(), runKicked(t));
        }
        assertEquals(0x1002, t.vcpu.getRegs().rip());
      }
    }
  }

  /** Kicks until run() returns for {@code v}, which must not report a Hlt meanwhile. */
  private static void parkUnreported(VcpuFd v) {
    while (v.getMpState() != KvmConstants.KVM_MP_STATE_HALTED) {
      CompletableFuture<Void> kicker = CompletableFuture.runAsync(() -> {}).thenRun(v::kick);
      assertEquals(new VcpuExit.Intr(), v.run(), "a Hlt while another vCPU could wake it");
      kicker.join();
    }
  }

  /**
   * With several vCPUs the hlt is reported only when none is left to wake it: here vCPU 0 parks
   * with IF=0 while vCPU 1 is runnable, vCPU 1 wakes it with an NMI IPI (memtest86+'s barrier),
   * then parks too, unreported while vCPU 0 runs; vCPU 0's second park, with both parked, is.
   */
  @Test
  void withSeveralVcpusOnlyTheLastToParkReportsTheHlt() {
    try (SmpVm s = new SmpVm(2, true)) {
      s.vm.enableCap(CAP, 1);
      KvmDtable idt = new KvmDtable(0x5000, 0x7ff);
      s.gate32(0x5000, 2, 0x2800);
      s.load(0x2800, 0xcf); // NMI handler: iret
      s.load(0x2000, 0xfa, 0xf4, 0xe6, 0x80, 0xf4); // vCPU 0: cli; hlt; out 0x80, al; hlt
      s.load(
          0x3000, 0xc7, 0x05, 0x10, 0x03, 0xe0, 0xfe, 0, 0, 0, 0, // mov [ICR high], 0: APIC ID 0
          0xc7, 0x05, 0x00, 0x03, 0xe0, 0xfe, 0x00, 0x44, 0, 0, //  mov [ICR low], 0x4400: NMI
          0xe6, 0x81, //                                             out 0x81, al
          0xfa, 0xf4); //                                            cli; hlt
      s.protectedMode(0, 0x2000, 0x7000, idt, 2);
      s.protectedMode(1, 0x3000, 0x7800, idt, 2);
      VcpuFd bsp = s.vcpu(0);
      VcpuFd ap = s.vcpu(1);
      ap.setMpState(KvmConstants.KVM_MP_STATE_RUNNABLE);
      parkUnreported(bsp); // vCPU 1 could still send an NMI
      assertEquals(new VcpuExit.IoOut(0x81, 1, 0), SmpTest.run(ap));
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0), SmpTest.run(bsp), "the NMI woke vCPU 0");
      parkUnreported(ap); // vCPU 0 runs
      assertEquals(new VcpuExit.Hlt(), SmpTest.run(bsp), "both parked: reported");
      assertEquals(0x2005, bsp.getRegs().rip());
    }
  }

  @Test
  void anApWaitingForSipiCannotWakeTheBspSoItsHltIsReported() {
    try (SmpVm s = new SmpVm(2, true)) {
      s.vm.enableCap(CAP, 1);
      s.load(0x2000, 0xfa, 0xf4); // cli; hlt
      s.protectedMode(0, 0x2000, 0x7000, new KvmDtable(0, 0), 2);
      assertEquals(new VcpuExit.Hlt(), SmpTest.run(s.vcpu(0)));
    }
  }
}
