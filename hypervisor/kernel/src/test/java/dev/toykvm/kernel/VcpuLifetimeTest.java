package dev.toykvm.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A failed {@code KVM_CREATE_VCPU} releases everything it took, and a closed VM leaves no engine
 * thread and no fd behind: counted as threads named {@code vcpuN-engine} and entries of {@code
 * /proc/self/fd}.
 */
@Timeout(60)
class VcpuLifetimeTest {

  @AfterEach
  void noFault() {
    VcpuEngine.failInitForTests = null;
  }

  @Test
  void aHundredFailedCreationsLeaveNothingBehind() {
    try (Kvm kvm = Kvm.open();
        Arena arena = Arena.ofShared()) {
      VmFd vm = kvm.createVm();
      vm.setUserMemoryRegion(
          new KvmUserspaceMemoryRegion(0, 0, 0, 0x10000, arena.allocate(0x10000, 4096)));
      vm.createVcpu(0).close(); // loads every class and library once
      long threads = Resources.engineThreads();
      int fds = Resources.fds().size();
      long rss = Resources.rssKib();
      VcpuEngine.failInitForTests =
          new KvmException("KVM_CREATE_VCPU", Errno.ENOMEM, "injected by the test");
      for (int i = 0; i < 100; i++) {
        KvmException e = assertThrows(KvmException.class, () -> vm.createVcpu(1));
        assertEquals(Errno.ENOMEM, e.errno(), e.getMessage());
      }
      VcpuEngine.failInitForTests = null;
      // Rejected before anything is taken, also 100 times.
      VcpuFd first = vm.createVcpu(1);
      for (int i = 0; i < 50; i++) {
        assertEquals(
            Errno.EEXIST, assertThrows(KvmException.class, () -> vm.createVcpu(1)).errno());
        assertEquals(
            Errno.EINVAL, assertThrows(KvmException.class, () -> vm.createVcpu(-1)).errno());
      }
      first.close();
      assertEquals(threads, Resources.engineThreads(), "engine threads after 100 failed creations");
      assertEquals(fds, Resources.fds().size(), () -> "fds after 100 failures: " + Resources.fds());
      System.out.printf(
          "100 failed KVM_CREATE_VCPU: engine threads %d -> %d, fds %d -> %d, RSS %d -> %d KiB%n",
          threads, Resources.engineThreads(), fds, Resources.fds().size(), rss, Resources.rssKib());
      vm.close();
    }
  }

  @Test
  void aClosedVmLeavesNoThreadAndNoFd() {
    try (Arena arena = Arena.ofShared()) {
      MemorySegment ram = arena.allocate(0x10000, 4096);
      ram.set(ValueLayout.JAVA_BYTE, 0xfff0, (byte) 0xf4); // hlt at the reset vector's alias
      long threads = Resources.engineThreads();
      int fds = Resources.fds().size();
      Kvm kvm = Kvm.open();
      VmFd vm = kvm.createVm();
      vm.setUserMemoryRegion(new KvmUserspaceMemoryRegion(0, 0, 0xffff0000L, 0x10000, ram));
      for (int id = 0; id < 8; id++) {
        VcpuFd vcpu = vm.createVcpu(id);
        assertInstanceOf(VcpuExit.Hlt.class, vcpu.run());
      }
      assertEquals(threads + 8, Resources.engineThreads());
      kvm.close();
      vm.close();
      assertEquals(threads, Resources.engineThreads(), "engine threads after closing the VM");
      assertEquals(fds, Resources.fds().size(), () -> "fds after closing: " + Resources.fds());
    }
  }
}
