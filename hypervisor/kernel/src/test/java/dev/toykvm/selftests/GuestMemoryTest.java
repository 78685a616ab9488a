package dev.toykvm.selftests;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmDtable;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * Guest memory as KVM's contract, for every kind of {@link MemorySegment} a Java programmer may
 * start with: what {@code KVM_SET_USER_MEMORY_REGION} refuses and why, and that memory going away
 * under a VM is {@code EFAULT}, never a crash of the JVM.
 */
@Timeout(60)
class GuestMemoryTest {
  static final long SIZE = 0x10000;
  static final long COUNTER = 0x2000;

  /** inc dword [0x2000]; jmp back: a guest that runs until kicked, counting in memory. */
  static final int[] COUNTING_LOOP = {0x66, 0xff, 0x06, 0x00, 0x20, 0xeb, 0xf9};

  /** mov byte [0x2000], 0x42; hlt */
  static final int[] STORE_AND_HALT = {0xc6, 0x06, 0x00, 0x20, 0x42, 0xf4};

  /** in al, 0x60; mov [0x2000], al; hlt: stops in an IoIn exit, then stores what it read. */
  static final int[] READ_PORT_AND_STORE = {0xe4, 0x60, 0xa2, 0x00, 0x20, 0xf4};

  private static void assertErrno(Errno errno, String words, Executable call) {
    KvmException e = assertThrows(KvmException.class, call);
    assertEquals(errno, e.errno(), e.getMessage());
    assertTrue(e.getMessage().contains(words), () -> e.getMessage() + " should say " + words);
  }

  private static KvmUserspaceMemoryRegion slot0(MemorySegment mem) {
    return new KvmUserspaceMemoryRegion(0, 0, 0, SIZE, mem);
  }

  private static void load(MemorySegment mem, int... code) {
    for (int i = 0; i < code.length; i++) {
      mem.set(ValueLayout.JAVA_BYTE, 0x1000 + i, (byte) code[i]);
    }
  }

  /** Real mode, CS = DS = 0, IP = 0x1000. */
  private static void realMode(VcpuFd vcpu) {
    KvmSregs s = vcpu.getSregs();
    vcpu.setSregs(
        s.withCs(KvmSegment.realMode(0, true))
            .withDataSegments(KvmSegment.realMode(0, false))
            .withTables(new KvmDtable(0, 0xffff), new KvmDtable(0, 0x3ff)));
    vcpu.setRegs(vcpu.getRegs().withRip(0x1000).withRsp(0x8000).withRflags(2));
  }

  @Test
  void heapMemoryIsRefusedAsNotNative() {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      MemorySegment heap = MemorySegment.ofArray(new byte[(int) SIZE]);
      assertErrno(Errno.EINVAL, "not native memory", () -> vm.setUserMemoryRegion(slot0(heap)));
    }
  }

  @Test
  void memoryOfAClosedArenaIsRefused() {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      MemorySegment mem;
      try (Arena arena = Arena.ofShared()) {
        mem = arena.allocate(SIZE, 4096);
      }
      assertErrno(Errno.EFAULT, "closed arena", () -> vm.setUserMemoryRegion(slot0(mem)));
    }
  }

  @Test
  void confinedMemoryRunsFromItsOwnerThreadOnly() throws Exception {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm();
        Arena arena = Arena.ofConfined();
        ExecutorService other = Executors.newSingleThreadExecutor()) {
      MemorySegment mem = arena.allocate(SIZE, 4096);
      load(mem, STORE_AND_HALT);
      vm.setUserMemoryRegion(slot0(mem));
      VcpuFd vcpu = vm.createVcpu(0);
      realMode(vcpu);
      // Another thread may not run on memory it may not touch (and whose owner may free it).
      Future<?> elsewhere = other.submit(vcpu::run);
      Exception e = assertThrows(Exception.class, () -> elsewhere.get(30, SECONDS));
      KvmException k = assertInstanceOf(KvmException.class, e.getCause());
      assertEquals(Errno.EFAULT, k.errno(), k.getMessage());
      assertTrue(k.getMessage().contains("Arena.ofShared()"), k.getMessage());
      // The owner runs it.
      assertInstanceOf(VcpuExit.Hlt.class, vcpu.run());
      assertEquals(0x42, mem.get(ValueLayout.JAVA_BYTE, COUNTER));
    }
  }

  @Test
  void confinedMemoryFreedBetweenRunsIsEfault() {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      Arena arena = Arena.ofConfined();
      MemorySegment mem = arena.allocate(SIZE, 4096);
      load(mem, READ_PORT_AND_STORE);
      vm.setUserMemoryRegion(slot0(mem));
      VcpuFd vcpu = vm.createVcpu(0);
      realMode(vcpu);
      VcpuExit.IoIn in = assertInstanceOf(VcpuExit.IoIn.class, vcpu.run());
      in.setData(0x5a);
      arena.close(); // the vCPU is stopped inside `in`, with the store still to come
      assertErrno(Errno.EFAULT, "freed", vcpu::run);
      assertErrno(Errno.EFAULT, "freed", vcpu::run); // and stays so, without a crash
      vcpu.getRegs(); // ioctls that do not touch memory still work
    }
  }

  @Test
  void memoryDeletedAndFreedDuringAnExitIsEfault() {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      Arena arena = Arena.ofShared();
      MemorySegment mem = arena.allocate(SIZE, 4096);
      load(mem, READ_PORT_AND_STORE);
      vm.setUserMemoryRegion(slot0(mem));
      VcpuFd vcpu = vm.createVcpu(0);
      realMode(vcpu);
      assertInstanceOf(VcpuExit.IoIn.class, vcpu.run());
      vm.setUserMemoryRegion(new KvmUserspaceMemoryRegion(0, 0, 0, 0, MemorySegment.NULL));
      arena.close();
      // The rest of the instruction would still use the old mapping.
      assertErrno(Errno.EFAULT, "freed", vcpu::run);
    }
  }

  @Test
  void sharedMemoryCannotBeClosedWhileTheGuestRuns() throws Exception {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      Arena arena = Arena.ofShared();
      MemorySegment mem = arena.allocate(SIZE, 4096);
      load(mem, COUNTING_LOOP);
      vm.setUserMemoryRegion(slot0(mem));
      VcpuFd vcpu = vm.createVcpu(0);
      realMode(vcpu);
      CompletableFuture<VcpuExit> run = CompletableFuture.supplyAsync(vcpu::run, runner());
      await("the guest counts")
          .atMost(30, SECONDS)
          .until(() -> mem.get(ValueLayout.JAVA_INT, COUNTER) > 0);
      IllegalStateException busy = assertThrows(IllegalStateException.class, arena::close);
      assertTrue(busy.getMessage().contains("acquired"), busy.getMessage());
      vcpu.kick();
      assertInstanceOf(VcpuExit.Intr.class, run.get(30, SECONDS));
      arena.close(); // free once the guest has stopped
      assertErrno(Errno.EFAULT, "freed", vcpu::run);
    }
  }

  @Test
  void autoAndGlobalMemoryRunFromAnyThread() throws Exception {
    for (MemorySegment mem :
        new MemorySegment[] {
          Arena.ofAuto().allocate(SIZE, 4096), Arena.global().allocate(SIZE, 4096)
        }) {
      try (Kvm kvm = Kvm.open();
          VmFd vm = kvm.createVm()) {
        load(mem, STORE_AND_HALT);
        vm.setUserMemoryRegion(slot0(mem));
        VcpuFd vcpu = vm.createVcpu(0);
        realMode(vcpu);
        assertInstanceOf(
            VcpuExit.Hlt.class,
            CompletableFuture.supplyAsync(vcpu::run, runner()).get(30, SECONDS));
        assertEquals(0x42, mem.get(ValueLayout.JAVA_BYTE, COUNTER));
      }
    }
  }

  private static java.util.concurrent.Executor runner() {
    return r -> Thread.ofPlatform().daemon().name("test-run").start(r);
  }
}
