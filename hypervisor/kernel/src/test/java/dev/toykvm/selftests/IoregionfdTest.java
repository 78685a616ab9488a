package dev.toykvm.selftests;

import static dev.toykvm.kvm.KvmConstants.KVM_IOREGION_PIO;
import static dev.toykvm.kvm.KvmConstants.KVM_IOREGION_POSTED_WRITES;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.ioregionfd.wire.IoregionCommand.Op;
import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmIoregion;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmStat;
import dev.toykvm.kvm.VcpuExit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * KVM_SET_IOREGIONFD as the RFC (v3) defines it, with the device on the far end of real pipes: the
 * accesses reach it as byte-exact commands and never come out of run().
 */
@Timeout(30)
class IoregionfdTest {
  static final long BASE = 0x1000_0000L;

  private static KvmIoregion mmio(PipeDevice d, long start, long size, long userData, int flags) {
    return new KvmIoregion(start, size, userData, d.kernelReadFd(), d.kernelWriteFd(), flags);
  }

  /** mov al,[B]; mov bx,[B+0x12]; mov ecx,[B+0x24]; mov rdx,[B+0x38]; hlt */
  private static void loadReads(TestVm t) {
    t.load(
        0x1000, 0x8a, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, // mov al, [0x10000000]
        0x66, 0x8b, 0x1c, 0x25, 0x12, 0x00, 0x00, 0x10, // mov bx, [0x10000012]
        0x8b, 0x0c, 0x25, 0x24, 0x00, 0x00, 0x10, // mov ecx, [0x10000024]
        0x48, 0x8b, 0x14, 0x25, 0x38, 0x00, 0x00, 0x10, // mov rdx, [0x10000038]
        0xf4); // hlt
  }

  @Test
  void readsOfEverySizeGoToTheDeviceAndNeverExit() throws Exception {
    try (PipeDevice d = PipeDevice.answering(c -> 0x1122_3344_5566_7788L + c.offset());
        TestVm t = new TestVm()) {
      t.vm.setIoregion(mmio(d, BASE, 0x1000, 0xfeed_f00dL, 0));
      loadReads(t);
      t.longMode(0x1000);
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      KvmRegs r = t.vcpu.getRegs();
      assertEquals(0x88, r.rax() & 0xff);
      assertEquals(0x779a, r.rbx() & 0xffff);
      assertEquals(0x5566_77acL, r.rcx());
      assertEquals(0x1122_3344_5566_77c0L, r.rdx());
      assertEquals(
          List.of(
              new IoregionCommand(Op.READ, 1, true, 0xfeed_f00dL, 0x00, 0),
              new IoregionCommand(Op.READ, 2, true, 0xfeed_f00dL, 0x12, 0),
              new IoregionCommand(Op.READ, 4, true, 0xfeed_f00dL, 0x24, 0),
              new IoregionCommand(Op.READ, 8, true, 0xfeed_f00dL, 0x38, 0)),
          d.received);
    }
  }

  @Test
  void writesWaitForTheDeviceUnlessPosted() throws Exception {
    for (boolean posted : new boolean[] {false, true}) {
      try (PipeDevice d = PipeDevice.answering(c -> 0L);
          TestVm t = new TestVm()) {
        t.vm.setIoregion(mmio(d, BASE, 0x1000, 7, posted ? KVM_IOREGION_POSTED_WRITES : 0));
        t.load(
            0x1000, 0xc6, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, 0x11, // mov byte [B], 0x11
            0x66, 0xc7, 0x04, 0x25, 0x02, 0x00, 0x00, 0x10, 0x33, 0x22, // mov word [B+2]
            0xc7, 0x04, 0x25, 0x04, 0x00, 0x00, 0x10, 0x77, 0x66, 0x55, 0x44, // mov dword [B+4]
            0x48, 0xb8, 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, // mov rax, imm64
            0x48, 0x89, 0x04, 0x25, 0x08, 0x00, 0x00, 0x10, // mov [B+8], rax
            0xf4); // hlt
        t.longMode(0x1000);
        assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
        boolean resp = !posted;
        waitFor(d, 4);
        assertEquals(
            List.of(
                new IoregionCommand(Op.WRITE, 1, resp, 7, 0, 0x11),
                new IoregionCommand(Op.WRITE, 2, resp, 7, 2, 0x2233),
                new IoregionCommand(Op.WRITE, 4, resp, 7, 4, 0x4455_6677L),
                new IoregionCommand(Op.WRITE, 8, resp, 7, 8, 0x8899_aabb_ccdd_eeffL)),
            d.received);
      }
    }
  }

  @Test
  void pioRegionsSeeOffsetsFromTheirFirstPort() throws Exception {
    try (PipeDevice d = PipeDevice.answering(c -> 0xabcd_ef01L);
        TestVm t = new TestVm()) {
      t.vm.setIoregion(mmio(d, 0x1234, 8, 0x42, KVM_IOREGION_PIO));
      t.load(
          0x1000, 0xba, 0x34, 0x12, // mov dx, 0x1234
          0x66, 0xb8, 0x44, 0x33, 0x22, 0x11, // mov eax, 0x11223344
          0x66, 0xef, // out dx, eax
          0xba, 0x38, 0x12, // mov dx, 0x1238
          0xec, // in al, dx
          0xf4); // hlt
      t.realMode(0x1000);
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      assertEquals(0x01, t.vcpu.getRegs().rax() & 0xff);
      assertEquals(
          List.of(
              new IoregionCommand(Op.WRITE, 4, true, 0x42, 0, 0x1122_3344L),
              new IoregionCommand(Op.READ, 1, true, 0x42, 4, 0)),
          d.received);
    }
  }

  @Test
  void anAccessNotWhollyInsideTheRegionExitsToTheVmm() throws Exception {
    try (PipeDevice d = PipeDevice.answering(c -> 0L);
        TestVm t = new TestVm()) {
      t.vm.setIoregion(mmio(d, BASE, 0x10, 0, 0));
      t.load(
          0x1000, 0x8b, 0x0c, 0x25, 0x0e, 0x00, 0x00, 0x10, // mov ecx, [B+0xe]: 2 bytes in, 2 out
          0xf4);
      t.longMode(0x1000);
      VcpuExit.MmioRead read = assertInstanceOf(VcpuExit.MmioRead.class, t.vcpu.run());
      assertEquals(BASE + 0xe, read.address());
      read.setData(0x1234_5678);
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      assertTrue(d.received.isEmpty());
    }
  }

  @Test
  void zeroSizeRegionWithPostedWritesTakesWritesOfAnySize() throws Exception {
    try (PipeDevice d = PipeDevice.answering(c -> 0L);
        TestVm t = new TestVm()) {
      t.vm.setIoregion(mmio(d, BASE, 0, 9, KVM_IOREGION_POSTED_WRITES));
      t.load(
          0x1000, 0xc7, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, 0x01, 0x00, 0x00,
          0x00, // mov dword [B], 1
          0xc6, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, 0x02, // mov byte [B], 2
          0x8a, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, // mov al, [B]: a read goes to the VMM
          0xf4);
      t.longMode(0x1000);
      assertInstanceOf(VcpuExit.MmioRead.class, t.vcpu.run());
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      waitFor(d, 2);
      assertEquals(
          List.of(
              new IoregionCommand(Op.WRITE, 4, false, 9, 0, 1),
              new IoregionCommand(Op.WRITE, 1, false, 9, 0, 2)),
          d.received);
    }
  }

  @Test
  void deassignedRegionGoesBackToTheVmm() throws Exception {
    try (PipeDevice d = PipeDevice.answering(c -> 5L);
        TestVm t = new TestVm()) {
      KvmIoregion region = mmio(d, BASE, 0x1000, 0, 0);
      t.vm.setIoregion(region);
      t.vm.setIoregion(region.deassign());
      t.load(0x1000, 0x8a, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, 0xf4); // mov al, [B]; hlt
      t.longMode(0x1000);
      assertInstanceOf(VcpuExit.MmioRead.class, t.vcpu.run());
      assertTrue(d.received.isEmpty());
    }
  }

  @Test
  void kickDuringAnAccessIsIntrAndTheNextRunResumesIt() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    try (PipeDevice d =
            new PipeDevice(
                c -> {
                  awaitRelease(release);
                  return PipeDevice.response(0x77);
                });
        TestVm t = new TestVm()) {
      t.vm.setIoregion(mmio(d, BASE, 0x1000, 0, 0));
      t.load(0x1000, 0x8a, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, 0xf4); // mov al, [B]; hlt
      t.longMode(0x1000);
      Future<VcpuExit> run = runInBackground(t);
      kickWhenSent(t, d);
      assertInstanceOf(VcpuExit.Intr.class, run.get(20, TimeUnit.SECONDS));
      release.countDown();
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      assertEquals(0x77, t.vcpu.getRegs().rax() & 0xff);
      assertEquals(1, d.received.size(), "the command was sent exactly once");
    }
  }

  @Test
  void regionRemovedWhileInterruptedCompletesAsAnOrdinaryExit() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    try (PipeDevice d =
            new PipeDevice(
                c -> {
                  awaitRelease(release);
                  return PipeDevice.response(0x11);
                });
        TestVm t = new TestVm()) {
      KvmIoregion region = mmio(d, BASE, 0x1000, 0, 0);
      t.vm.setIoregion(region);
      t.load(0x1000, 0x8a, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, 0xf4); // mov al, [B]; hlt
      t.longMode(0x1000);
      Future<VcpuExit> run = runInBackground(t);
      kickWhenSent(t, d);
      assertInstanceOf(VcpuExit.Intr.class, run.get(20, TimeUnit.SECONDS));
      t.vm.setIoregion(region.deassign());
      release.countDown();
      VcpuExit.MmioRead read = assertInstanceOf(VcpuExit.MmioRead.class, t.vcpu.run());
      read.setData(0x22);
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      assertEquals(0x22, t.vcpu.getRegs().rax() & 0xff);
    }
  }

  @Test
  void deviceThatDiesGivesTheFailureExit() throws Exception {
    try (PipeDevice d = new PipeDevice(c -> null);
        TestVm t = new TestVm()) {
      t.vm.setIoregion(mmio(d, BASE, 0x1000, 0, 0));
      t.load(0x1000, 0x8a, 0x04, 0x25, 0x08, 0x00, 0x00, 0x10, 0xf4); // mov al, [B+8]; hlt
      t.longMode(0x1000);
      d.die();
      VcpuExit.IoregionfdFailure f =
          assertInstanceOf(VcpuExit.IoregionfdFailure.class, t.vcpu.run());
      assertEquals(Errno.EIO, f.errno());
      assertEquals(BASE + 8, f.address());
      assertEquals(BASE, f.regionStart());
      assertEquals(KvmConstants.KVM_EXIT_IOREGIONFD_FAILURE, f.reason());
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      assertEquals(0xff, t.vcpu.getRegs().rax() & 0xff, "a failed read reads all-ones");
    }
  }

  @Test
  void stalledDeviceTimesOut() throws Exception {
    try (PipeDevice d = new PipeDevice(c -> null);
        TestVm t = new TestVm()) {
      t.vm.setIoregion(mmio(d, BASE, 0x1000, 0, 0));
      t.load(0x1000, 0x8a, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, 0xf4);
      t.longMode(0x1000);
      VcpuExit.IoregionfdFailure f =
          assertInstanceOf(VcpuExit.IoregionfdFailure.class, t.vcpu.run());
      assertEquals(Errno.EAGAIN, f.errno());
      f.setData(0x5a);
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      assertEquals(0x5a, t.vcpu.getRegs().rax() & 0xff, "the VMM may answer a failed read");
    }
  }

  @Test
  void aShortResponseIsAFailure() throws Exception {
    byte[] shortOne = new byte[10];
    try (PipeDevice d = new PipeDevice(cmd -> shortOne);
        TestVm t = new TestVm()) {
      t.vm.setIoregion(mmio(d, BASE, 0x1000, 0, 0));
      t.load(0x1000, 0x8a, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, 0xf4);
      t.longMode(0x1000);
      Future<VcpuExit> run = runInBackground(t);
      // The device dies after a short answer: the kernel side has part of a response.
      await("the device answers").atMost(10, TimeUnit.SECONDS).until(() -> d.answered.get() > 0);
      d.die();
      VcpuExit.IoregionfdFailure f =
          assertInstanceOf(VcpuExit.IoregionfdFailure.class, run.get(20, TimeUnit.SECONDS));
      assertEquals(Errno.EIO, f.errno(), f.description());
    }
  }

  @Test
  void paddingInAResponseIsIgnoredAsTheRfcIgnoresIt() throws Exception {
    byte[] padded = PipeDevice.response(0x5a);
    padded[20] = 1;
    padded[31] = (byte) 0xff;
    try (PipeDevice d = new PipeDevice(cmd -> padded);
        TestVm t = new TestVm()) {
      t.vm.setIoregion(mmio(d, BASE, 0x1000, 0, 0));
      t.load(
          0x1000, 0x8a, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, // mov al, [0x10000000]
          0xf4); // hlt
      t.longMode(0x1000);
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      assertEquals(0x5a, t.vcpu.getRegs().rax() & 0xff);
    }
  }

  /**
   * Kicks once the device has the command: the vCPU is then in the access (or about to wait in it,
   * where the kick is already pending).
   */
  private static void kickWhenSent(TestVm t, PipeDevice d) {
    waitFor(d, 1);
    t.vcpu.kick();
  }

  /** Waits until the device has received {@code commands} commands; fails saying so otherwise. */
  static void waitFor(PipeDevice d, int commands) {
    await("the device receives " + commands + " command(s)")
        .atMost(10, TimeUnit.SECONDS)
        .until(() -> d.received.size() >= commands);
  }

  /** {@code t.vcpu.run()} on another thread (guest memory is a shared arena). */
  static Future<VcpuExit> runInBackground(TestVm t) {
    return CompletableFuture.supplyAsync(
        t.vcpu::run, r -> Thread.ofPlatform().daemon().name("test-run").start(r));
  }

  private static void awaitRelease(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void twoVcpusSharingOneReadFdGetTheirOwnResponses() throws Exception {
    int iterations = 2000;
    try (PipeDevice d = PipeDevice.answering(c -> c.userData() * 0x1_0001L + c.offset());
        TestVm t = new TestVm()) {
      // Two regions, one pair of fds: responses must come back to the vCPU that asked.
      t.vm.setIoregion(mmio(d, BASE, 0x1000, 0x1111, 0));
      t.vm.setIoregion(mmio(d, BASE + 0x1000, 0x1000, 0x2222, 0));
      t.load(
          0x1000, 0xb9, 0xd0, 0x07, 0x00, 0x00, // mov ecx, 2000
          0x31, 0xdb, // xor ebx, ebx
          0x48, 0x8b, 0x06, // 1: mov rax, [rsi]
          0x4c, 0x39, 0xe0, // cmp rax, r12
          0x74, 0x02, // je 2f
          0xff, 0xc3, // inc ebx          (a wrong answer)
          0xff, 0xc9, // 2: dec ecx
          0x75, 0xf2, // jnz 1b
          0x89, 0xd8, // mov eax, ebx
          0xe7, 0x80, // out 0x80, eax   (the number of wrong answers)
          0xf4); // hlt
      dev.toykvm.kvm.VcpuFd second = t.vm.createVcpu(1);
      t.longMode(0x1000);
      t.longMode(second, 0x1000, new dev.toykvm.kvm.KvmDtable(0, 0));
      setLoop(t.vcpu, BASE + 0x08, 0x1111L * 0x1_0001L + 0x08);
      setLoop(second, BASE + 0x1010, 0x2222L * 0x1_0001L + 0x10);
      java.util.concurrent.Future<VcpuExit> other =
          java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()
              .submit(() -> second.run());
      assertEquals(new VcpuExit.IoOut(0x80, 4, 0), t.vcpu.run());
      assertEquals(new VcpuExit.IoOut(0x80, 4, 0), other.get(20, TimeUnit.SECONDS));
      assertEquals(2 * iterations, d.received.size());
    }
  }

  private static void setLoop(dev.toykvm.kvm.VcpuFd vcpu, long address, long expected) {
    long[] r = vcpu.getRegs().toArray();
    r[4] = address; // rsi
    r[12] = expected; // r12
    vcpu.setRegs(KvmRegs.fromArray(r));
  }

  @Test
  void theKernelSideKeepsItsOwnReferencesToTheFds() throws Exception {
    try (PipeDevice d = PipeDevice.answering(c -> 0x66L);
        TestVm t = new TestVm()) {
      t.vm.setIoregion(mmio(d, BASE, 0x1000, 0, 0));
      // As with KVM, the VMM may close its fds once the region is registered.
      d.commands.closeWriteEnd();
      d.responses.closeReadEnd();
      t.load(0x1000, 0x8a, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, 0xf4); // mov al, [B]; hlt
      t.longMode(0x1000);
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      assertEquals(0x66, t.vcpu.getRegs().rax() & 0xff);
    }
  }

  @Test
  void deassignAndVmCloseReleaseTheKernelSidesFds() throws Exception {
    long before = openFds();
    try (PipeDevice d = PipeDevice.answering(c -> 0L);
        TestVm t = new TestVm()) {
      long withDevice = openFds();
      KvmIoregion region = mmio(d, BASE, 0x1000, 0, 0);
      for (int i = 0; i < 5; i++) {
        t.vm.setIoregion(region);
        t.vm.setIoregion(region.deassign());
      }
      assertEquals(withDevice, openFds());
      t.vm.setIoregion(region);
      t.vm.setIoregion(mmio(d, BASE + 0x1000, 0x1000, 1, 0));
    }
    assertEquals(before, openFds());
  }

  private static long openFds() throws java.io.IOException {
    try (var s = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
      return s.count();
    }
  }

  @Test
  void aDeviceThatStopsReadingFillsItsPipeAndTimesOutInsteadOfHanging() throws Exception {
    try (dev.toykvm.posix.Pipe commands = dev.toykvm.posix.Fds.pipe2();
        TestVm t = new TestVm()) {
      // Nobody reads the command pipe: posted writes fill it (64 KiB = 2048 commands).
      t.vm.setIoregion(
          new KvmIoregion(BASE, 0, 0, -1, commands.writeFd(), KVM_IOREGION_POSTED_WRITES));
      t.load(
          0x1000, 0xb9, 0x10, 0x27, 0x00, 0x00, // mov ecx, 10000
          0x89, 0x0c, 0x25, 0x00, 0x00, 0x00, 0x10, // 1: mov [B], ecx
          0xff, 0xc9, // dec ecx
          0x75, 0xf5, // jnz 1b
          0xf4); // hlt
      t.longMode(0x1000);
      VcpuExit.IoregionfdFailure f =
          assertInstanceOf(VcpuExit.IoregionfdFailure.class, t.vcpu.run());
      assertEquals(Errno.EAGAIN, f.errno(), f.description());
      assertTrue(f.write());
    }
  }

  @Test
  void aPostedWriteReachesTheDeviceWhileTheGuestSpins() throws Exception {
    // Each write is followed by a loop without a write: the batch goes though the guest never
    // gives up the CPU. The loop has no pause, so the vCPU does not yield: it may be working.
    Spun r = writeThenLoop(false);
    assertTrue(r.received().size() >= 50, "the device got " + r.received().size());
    assertTrue(r.received().stream().allMatch(WRITE_42::equals), r.received().toString());
    assertEquals(0, stat(r, "spin_yields"));
    long writes = stat(r, "ioregionfd_posted_writes");
    assertTrue(writes >= r.received().size(), "every write the device got was posted");
    long batches = stat(r, "ioregionfd_posted_batches");
    assertTrue(batches >= 1 && batches <= writes, batches + " batches of " + writes + " writes");
    assertEquals(0, stat(r, "ioregionfd_accesses"), "a posted write is no round trip");
    assertEquals(1, stat(r, "exits"), "the kick's, and nothing else");
    assertEquals(1, stat(r, "signal_exits"));
    assertEquals(0, stat(r, "mmio_exits"));
  }

  @Test
  void aVcpuSpinningWithPauseAfterAPostedWriteYieldsItsCpu() throws Exception {
    Spun r = writeThenLoop(true); // pause: a spin-wait, as x86 asks of one
    assertTrue(r.received().stream().allMatch(WRITE_42::equals), r.received().toString());
    assertTrue(stat(r, "spin_yields") > 0, r.stats().toString());
  }

  private static final IoregionCommand WRITE_42 = new IoregionCommand(Op.WRITE, 4, false, 0, 0, 42);

  /** What the device received, and the vCPU's statistics at the end. */
  private record Spun(List<IoregionCommand> received, List<KvmStat> stats) {}

  private static long stat(Spun r, String name) {
    return KvmStat.find(r.stats(), name).orElseThrow();
  }

  /**
   * Runs, for ever, {@code mov dword [B], 42} (a posted write) and a loop of 1000 turns ({@code dec
   * ecx; jnz}, with a {@code pause} first if {@code pause}), until the device has 50 writes and,
   * with {@code pause}, the vCPU has yielded; a kick ends the run.
   */
  private static Spun writeThenLoop(boolean pause) throws Exception {
    try (PipeDevice d = PipeDevice.answering(c -> 0L);
        TestVm t = new TestVm()) {
      t.vm.setIoregion(mmio(d, BASE, 0x1000, 0, KVM_IOREGION_POSTED_WRITES));
      List<Integer> code =
          new ArrayList<>(
              List.of(
                  0xc7, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, 0x2a, 0x00, 0x00, 0x00, // mov [B], 42
                  0xb9, 0xe8, 0x03, 0x00, 0x00)); // mov ecx, 1000
      int spin = code.size();
      if (pause) {
        code.addAll(List.of(0xf3, 0x90));
      }
      code.addAll(List.of(0xff, 0xc9, 0x75)); // dec ecx; jnz spin
      code.add((spin - (code.size() + 1)) & 0xff);
      code.add(0xeb); // jmp to the write
      code.add((-(code.size() + 1)) & 0xff);
      t.load(0x1000, code.stream().mapToInt(Integer::intValue).toArray());
      t.longMode(0x1000);
      Future<VcpuExit> run = runInBackground(t);
      waitFor(d, 50);
      if (pause) {
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> KvmStat.find(t.vcpu.getStats(), "spin_yields").orElseThrow() > 0);
      }
      t.vcpu.kick();
      assertInstanceOf(VcpuExit.Intr.class, run.get(20, TimeUnit.SECONDS));
      return new Spun(List.copyOf(d.received), t.vcpu.getStats());
    }
  }

  @Test
  void closingTheVmWhileAVcpuWaitsForAStalledDeviceDoesNotWaitForTheTimeout() throws Exception {
    // A device timeout far longer than the test's own: a close that waited for it would fail
    // the test by its timeout, and the run() would end with a timeout failure, not EBADF.
    String old = System.setProperty("toykvm.ioregionfd.timeout.ms", "600000");
    TestVm t;
    try {
      t = new TestVm(); // the vCPU reads the timeout when it is created
    } finally {
      System.setProperty("toykvm.ioregionfd.timeout.ms", old == null ? "1000" : old);
    }
    try (PipeDevice d = new PipeDevice(c -> null)) {
      t.vm.setIoregion(mmio(d, BASE, 0x1000, 0, 0));
      t.load(0x1000, 0x8a, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, 0xf4); // mov al, [B]; hlt
      t.longMode(0x1000);
      Future<VcpuExit> run = runInBackground(t);
      waitFor(d, 1);
      assertTimeoutPreemptively(
          Duration.ofSeconds(20), t::close, "closing waited for the stalled device");
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> run.get(20, TimeUnit.SECONDS));
      KvmException k = assertInstanceOf(KvmException.class, e.getCause());
      assertEquals(Errno.EBADF, k.errno(), "run() ends because the vCPU was closed under it");
    }
  }
}
