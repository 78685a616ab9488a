package dev.toykvm.selftests;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.KvmSregs;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/** The errno of every ioctl misuse, as Linux's KVM returns it. */
@Timeout(30)
class KvmApiErrorTest {

  private static void assertErrno(Errno errno, Executable call) {
    KvmException e = assertThrows(KvmException.class, call);
    assertEquals(errno, e.errno(), e.getMessage());
  }

  private static KvmUserspaceMemoryRegion slot(int id, long gpa, long size, MemorySegment mem) {
    return new KvmUserspaceMemoryRegion(id, 0, gpa, size, mem);
  }

  @Test
  void systemFdAnswersVersionAndCapabilities() {
    try (Kvm kvm = Kvm.open()) {
      assertEquals(12, kvm.getApiVersion());
      assertEquals(32, kvm.checkExtension(KvmConstants.KVM_CAP_NR_MEMSLOTS));
      assertTrue(kvm.checkExtension(KvmConstants.KVM_CAP_MAX_VCPUS) > 0);
      assertEquals(1, kvm.checkExtension(KvmConstants.KVM_CAP_USER_MEMORY));
      assertEquals(0, kvm.checkExtension(123456));
    }
  }

  @Test
  void memorySlotRules() {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm();
        Arena arena = Arena.ofShared()) {
      MemorySegment mem = arena.allocate(0x4000, 4096);
      vm.setUserMemoryRegion(slot(0, 0x10000, 0x2000, mem));
      // overlapping another slot, from either side
      assertErrno(Errno.EEXIST, () -> vm.setUserMemoryRegion(slot(1, 0x11000, 0x2000, mem)));
      assertErrno(Errno.EEXIST, () -> vm.setUserMemoryRegion(slot(1, 0xf000, 0x2000, mem)));
      // touching is fine
      vm.setUserMemoryRegion(slot(1, 0x12000, 0x2000, mem.asSlice(0x2000)));
      // misaligned address or size, bad flags, slot ids
      assertErrno(Errno.EINVAL, () -> vm.setUserMemoryRegion(slot(2, 0x20800, 0x1000, mem)));
      assertErrno(Errno.EINVAL, () -> vm.setUserMemoryRegion(slot(2, 0x20000, 0x800, mem)));
      assertErrno(
          Errno.EINVAL,
          () ->
              vm.setUserMemoryRegion(new KvmUserspaceMemoryRegion(2, 0x80, 0x20000, 0x1000, mem)));
      assertErrno(Errno.EINVAL, () -> vm.setUserMemoryRegion(slot(32, 0x20000, 0x1000, mem)));
      assertErrno(Errno.EINVAL, () -> vm.setUserMemoryRegion(slot(-1, 0x20000, 0x1000, mem)));
      // memory too small or missing, address overflow
      assertErrno(Errno.EINVAL, () -> vm.setUserMemoryRegion(slot(2, 0x20000, 0x8000, mem)));
      assertErrno(
          Errno.EINVAL, () -> vm.setUserMemoryRegion(slot(2, 0x20000, 0x1000, MemorySegment.NULL)));
      assertErrno(Errno.EINVAL, () -> vm.setUserMemoryRegion(slot(2, -0x1000L, 0x2000, mem)));
      // resizing an existing slot; deleting one that does not exist
      assertErrno(Errno.EINVAL, () -> vm.setUserMemoryRegion(slot(0, 0x10000, 0x1000, mem)));
      assertErrno(Errno.EINVAL, () -> vm.setUserMemoryRegion(slot(5, 0, 0, MemorySegment.NULL)));
      // delete, then the range is free again
      vm.setUserMemoryRegion(slot(0, 0x10000, 0, MemorySegment.NULL));
      vm.setUserMemoryRegion(slot(2, 0x11000, 0x1000, mem));
    }
  }

  @Test
  void vcpuIdRules() {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      vm.createVcpu(0);
      assertErrno(Errno.EEXIST, () -> vm.createVcpu(0));
      assertErrno(Errno.EINVAL, () -> vm.createVcpu(-1));
      assertErrno(
          Errno.EINVAL, () -> vm.createVcpu(kvm.checkExtension(KvmConstants.KVM_CAP_MAX_VCPUS)));
    }
  }

  @Test
  void closedVmAndVcpuGiveEbadf() {
    try (Kvm kvm = Kvm.open();
        Arena arena = Arena.ofShared()) {
      VmFd vm = kvm.createVm();
      VcpuFd vcpu = vm.createVcpu(0);
      vm.close();
      MemorySegment mem = arena.allocate(0x1000, 4096);
      assertErrno(Errno.EBADF, () -> vm.setUserMemoryRegion(slot(0, 0, 0x1000, mem)));
      assertErrno(Errno.EBADF, () -> vm.createVcpu(1));
      assertErrno(Errno.EBADF, vcpu::run);
      assertErrno(Errno.EBADF, vcpu::getRegs);
      vm.close(); // idempotent
      kvm.close();
      assertErrno(Errno.EBADF, kvm::createVm);
    }
  }

  @Test
  void invalidSregsAreRejected() {
    try (TestVm t = new TestVm()) {
      KvmSregs s = t.vcpu.getSregs();
      // CR0.PG without CR0.PE
      assertErrno(
          Errno.EINVAL, () -> t.vcpu.setSregs(s.withControl(KvmConstants.X86_CR0_PG, 0, 0, 0)));
      // long mode without PAE
      assertErrno(
          Errno.EINVAL,
          () ->
              t.vcpu.setSregs(
                  s.withControl(
                      KvmConstants.X86_CR0_PE | KvmConstants.X86_CR0_PG,
                      0,
                      0,
                      KvmConstants.EFER_LME | KvmConstants.EFER_LMA)));
      // EFER.LMA outside long mode, CS.L outside long mode
      assertErrno(
          Errno.EINVAL, () -> t.vcpu.setSregs(s.withControl(0x10, 0, 0, KvmConstants.EFER_LMA)));
      assertErrno(Errno.EINVAL, () -> t.vcpu.setSregs(s.withCs(KvmSegment.long64(8, true))));
      // the state did not change
      assertEquals(s, t.vcpu.getSregs());
    }
  }

  @Test
  void sregsRoundTripWithAnyRealModeBase() {
    try (TestVm t = new TestVm()) {
      KvmSregs s = t.vcpu.getSregs();
      KvmSregs unreal =
          s.withCs(KvmSegment.realMode(0x1234, true).withBase(0xabc00))
              .withDataSegments(KvmSegment.realMode(0x40, false).withBase(0x12_3450));
      t.vcpu.setSregs(unreal);
      assertEquals(unreal, t.vcpu.getSregs());
    }
  }

  @Test
  void kickBeforeRunIsNotLost() {
    try (TestVm t = new TestVm()) {
      t.load(0x1000, 0xeb, 0xfe); // jmp .
      t.realMode(0x1000);
      t.vcpu.kick();
      assertInstanceOf(VcpuExit.Intr.class, t.vcpu.run());
    }
  }

  @Test
  void kickInterruptsARunningGuest() throws Exception {
    try (TestVm t = new TestVm()) {
      t.load(0x1000, 0x66, 0xff, 0x06, 0x00, 0x20, 0xeb, 0xf9); // 1: inc dword [0x2000]; jmp 1b
      t.realMode(0x1000);
      CompletableFuture<VcpuExit> run =
          CompletableFuture.supplyAsync(
              t.vcpu::run, r -> Thread.ofPlatform().daemon().name("test-run").start(r));
      await("the guest runs (its counter goes up)")
          .atMost(30, TimeUnit.SECONDS)
          .until(() -> t.ram.get(ValueLayout.JAVA_INT, 0x2000) > 0);
      t.vcpu.kick();
      assertInstanceOf(VcpuExit.Intr.class, run.get(30, TimeUnit.SECONDS));
      long rip = t.vcpu.getRegs().rip();
      assertTrue(rip == 0x1000 || rip == 0x1005, "stopped at an instruction of the loop: " + rip);
      // It goes on from there.
      int before = t.ram.get(ValueLayout.JAVA_INT, 0x2000);
      t.vcpu.kick();
      assertInstanceOf(VcpuExit.Intr.class, t.vcpu.run());
      assertEquals(before, t.ram.get(ValueLayout.JAVA_INT, 0x2000), "a pending kick runs nothing");
    }
  }

  @Test
  void setRegsWhileAReadIsPendingIsBusy() {
    try (TestVm t = new TestVm()) {
      t.load(0x1000, 0xe4, 0x60, 0xf4); // in al, 0x60; hlt
      t.realMode(0x1000);
      VcpuExit.IoIn in = assertInstanceOf(VcpuExit.IoIn.class, t.vcpu.run());
      t.vcpu.getRegs(); // reading is fine
      assertErrno(Errno.EBUSY, () -> t.vcpu.setRegs(t.vcpu.getRegs()));
      in.setData(0x5a);
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      assertEquals(0x5a, t.vcpu.getRegs().rax() & 0xff);
    }
  }
}
