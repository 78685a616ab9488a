package dev.toykvm.selftests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.VcpuExit;
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
}
