package dev.toykvm.kernel;

import static dev.toykvm.kvm.KvmConstants.KVM_IOEVENTFD_FLAG_PIO;
import static dev.toykvm.kvm.KvmConstants.KVM_IOREGION_PIO;
import static dev.toykvm.kvm.KvmConstants.KVM_IOREGION_POSTED_WRITES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.ioregionfd.channel.IoregionAccess;
import dev.toykvm.ioregionfd.channel.PostedBatch;
import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.kvm.KvmIoeventfd;
import dev.toykvm.kvm.KvmIoregion;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Pipe;
import dev.toykvm.posix.Poll;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The three routes of an access, with real fds and no CPU. */
@Timeout(30)
class AccessRouterTest {
  private static final long TIMEOUT = 2_000_000_000L;

  private final KernelIo io = new KernelIo();
  private final int kickFd = Eventfd.create();
  private final FakeVcpu vcpu = new FakeVcpu();
  private final PostedWrites posted =
      new PostedWrites(
          0, new PostedBatch(kickFd, TIMEOUT), vcpu, new SpinWatch(() -> {}, (at, size) -> false));
  private final AccessRouter router =
      new AccessRouter(0, io, new IoregionAccess(kickFd, TIMEOUT), posted, vcpu);
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    router.close();
    posted.close();
    io.close();
    for (AutoCloseable c : toClose) {
      c.close();
    }
    Fds.close(kickFd);
  }

  @Test
  void unclaimedAccessesExitToTheVmm() {
    vcpu.vmm(
        exit -> {
          switch (exit) {
            case VcpuExit.IoIn in -> in.setData(0x1234);
            case VcpuExit.MmioRead r -> r.setData(0x5678);
            default -> {}
          }
        });
    router.access(true, true, 0x3f8, 1, 0x41);
    assertEquals(0x1234, router.access(true, false, 0x60, 2, 0));
    router.access(false, true, 0x1000_0000L, 4, 0xaabb_ccddL);
    assertEquals(0x5678, router.access(false, false, 0x1000_0008L, 8, 0));
    assertEquals(
        List.of(
            new VcpuExit.IoOut(0x3f8, 1, 0x41),
            new VcpuExit.MmioWrite(0x1000_0000L, 4, 0xaabb_ccddL)),
        vcpu.exits.stream()
            .filter(e -> e instanceof VcpuExit.IoOut || e instanceof VcpuExit.MmioWrite)
            .toList());
    assertEquals(4, vcpu.exits.size());
  }

  @Test
  void anIoeventfdIsSignalledAndNeverExits() {
    int efd = Eventfd.create();
    toClose.add(() -> Fds.close(efd));
    io.ioeventfd(new KvmIoeventfd(0, 0x510, 2, efd, KVM_IOEVENTFD_FLAG_PIO));
    assertTrue(router.kernelClaims(true, true, 0x510, 2, 7));
    router.access(true, true, 0x510, 2, 7);
    router.access(true, true, 0x510, 2, 8);
    assertEquals(2, Eventfd.drain(efd));
    assertTrue(vcpu.exits.isEmpty());
    // A read of the same port is not the ioeventfd's: it goes to the VMM.
    router.access(true, false, 0x510, 2, 0);
    assertInstanceOf(VcpuExit.IoIn.class, vcpu.exits.getFirst());
  }

  @Test
  void anIoregionReadIsAnsweredByItsDevice() throws Exception {
    Device device = new Device();
    io.setIoregion(
        new KvmIoregion(
            0xe0, 8, 42, device.responses.readFd(), device.kernelFd(), KVM_IOREGION_PIO));
    assertTrue(router.kernelClaims(true, false, 0xe4, 4, 0));
    assertFalse(router.kernelClaims(true, false, 0xe8, 1, 0));
    Thread answer =
        Thread.ofPlatform()
            .start(
                () -> {
                  IoregionCommand c = device.next();
                  device.respond(0x1000 + c.offset());
                });
    assertEquals(0x1004, router.access(true, false, 0xe4, 4, 0));
    answer.join();
    assertTrue(vcpu.exits.isEmpty());
  }

  @Test
  void postedWritesWaitInTheBatchAndGoOutBeforeAnExit() {
    Device device = new Device();
    io.setIoregion(
        new KvmIoregion(
            0xe0,
            8,
            7,
            device.responses.readFd(),
            device.kernelFd(),
            KVM_IOREGION_PIO | KVM_IOREGION_POSTED_WRITES));
    router.access(true, true, 0xe0, 1, 0x11);
    router.access(true, true, 0xe2, 2, 0x2222);
    assertFalse(Poll.poll(device.commands.readFd(), 0).readable(), "batched, not sent yet");
    List<Boolean> sentBeforeExit = new ArrayList<>();
    vcpu.vmm(exit -> sentBeforeExit.add(Poll.poll(device.commands.readFd(), 0).readable()));
    router.access(true, true, 0x3f8, 1, 0x41);
    assertEquals(List.of(true), sentBeforeExit);
    assertEquals(IoregionCommand.write(7, 0, 1, 0x11, false), device.next());
    assertEquals(IoregionCommand.write(7, 2, 2, 0x2222, false), device.next());
  }

  /** The device's ends of an ioregion's two pipes, read and answered by the test itself. */
  private final class Device {
    final Pipe commands = Fds.pipe2();
    final Pipe responses = Fds.pipe2();
    final Arena arena = Arena.ofShared();

    Device() {
      toClose.add(commands);
      toClose.add(responses);
      toClose.add(arena);
    }

    int kernelFd() {
      return commands.writeFd();
    }

    IoregionCommand next() {
      MemorySegment buf = arena.allocate(IoregionCommand.BYTES);
      assertEquals(IoregionCommand.BYTES, Fds.readFully(commands.readFd(), buf, buf.byteSize()));
      return IoregionCommand.decode(buf);
    }

    void respond(long data) {
      MemorySegment buf = arena.allocate(32);
      buf.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0, data);
      Fds.writeFully(responses.writeFd(), buf, 32);
    }
  }
}
