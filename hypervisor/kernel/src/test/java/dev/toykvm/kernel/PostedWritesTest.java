package dev.toykvm.kernel;

import static dev.toykvm.kvm.KvmConstants.KVM_IOREGION_POSTED_WRITES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.ioregionfd.channel.PostedBatch;
import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.kvm.Errno;
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

/**
 * The posted-write bookkeeping: batching, flushing (when asked, when full, when due, when the guest
 * loops without writing), the yields while the guest waits, and the failure exit that names a
 * write.
 */
@Timeout(30)
class PostedWritesTest {
  private final KernelIo io = new KernelIo();
  private final int kickFd = Eventfd.create();
  private final FakeVcpu vcpu = new FakeVcpu();
  private static final long PAUSE_BLOCK = 0x2010; // the test's blocks: this one ends in pause
  private int yields;
  private final PostedWrites posted =
      new PostedWrites(
          0,
          new PostedBatch(kickFd, 2_000_000_000L),
          vcpu,
          new SpinWatch(() -> yields++, (linear, size) -> linear == PAUSE_BLOCK));
  private final Pipe commands = Fds.pipe2();
  private final Pipe responses = Fds.pipe2();
  private final KernelIoBus.Region region;

  PostedWritesTest() {
    io.setIoregion(
        new KvmIoregion(
            0x1000_0000L,
            0x100,
            9,
            responses.readFd(),
            commands.writeFd(),
            KVM_IOREGION_POSTED_WRITES));
    region = io.mmio.findRegion(0x1000_0000L, 4, true);
  }

  @AfterEach
  void close() {
    posted.close();
    io.close();
    commands.close();
    responses.close();
    Fds.close(kickFd);
  }

  @Test
  void writesGoOutTogetherInOrderWhenFlushed() {
    for (int i = 0; i < 5; i++) {
      posted.add(region, false, 0x1000_0000L + 4 * i, 4, i);
    }
    assertTrue(!Poll.poll(commands.readFd(), 0).readable() && !posted.isEmpty());
    posted.flush();
    assertTrue(posted.isEmpty());
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(5 * IoregionCommand.BYTES);
      assertEquals(buf.byteSize(), Fds.readFully(commands.readFd(), buf, buf.byteSize()));
      for (int i = 0; i < 5; i++) {
        IoregionCommand c =
            IoregionCommand.decode(buf.asSlice(i * IoregionCommand.BYTES, IoregionCommand.BYTES));
        assertEquals(IoregionCommand.write(9, 4 * i, 4, i, false), c);
      }
    }
    assertTrue(vcpu.exits.isEmpty());
  }

  @Test
  void aFullBatchGoesOutAtOnce() {
    for (int i = 0; i < PostedBatch.MAX_COMMANDS; i++) {
      posted.add(region, false, 0x1000_0000L, 1, i);
    }
    assertTrue(posted.isEmpty());
    assertTrue(Poll.poll(commands.readFd(), 0).readable());
  }

  @Test
  void aFailedBatchIsOneExitNamingTheLastWrite() {
    posted.add(region, false, 0x1000_0004L, 4, 0x1111);
    posted.add(region, false, 0x1000_0008L, 2, 0x2222);
    commands.closeReadEnd(); // the device is gone
    posted.flush();
    assertEquals(1, vcpu.exits.size());
    VcpuExit.IoregionfdFailure f =
        assertInstanceOf(VcpuExit.IoregionfdFailure.class, vcpu.exits.getFirst());
    assertEquals(0x1000_0008L, f.address());
    assertEquals(2, f.size());
    assertEquals(0x2222, f.data());
    assertEquals(0x1000_0000L, f.regionStart());
    assertEquals(Errno.EIO, f.errno());
    assertTrue(posted.isEmpty());
  }

  @Test
  void aLoopWithoutAWriteSendsTheBatchBeforeItIsDueAndYields() {
    long before = System.nanoTime(); // earlier than the write: by time, the batch is never due
    posted.add(region, false, 0x1000_0000L, 4, 7);
    assertTrue(posted.atBlock(before, 0x2000, 16));
    assertTrue(posted.atBlock(before, 0x2010, 16));
    assertFalse(posted.isEmpty());
    assertFalse(Poll.poll(commands.readFd(), 0).readable());
    assertEquals(0, yields);

    assertTrue(
        posted.atBlock(before, 0x2000, 16)); // back at the loop's start; watching the wait now
    assertTrue(posted.isEmpty());
    assertTrue(Poll.poll(commands.readFd(), 0).readable());
    assertEquals(1, yields);
    assertEquals(1, vcpu.stats.value(VcpuStats.Counter.POSTED_FLUSHES_AT_LOOP));
    assertEquals(1, vcpu.stats.value(VcpuStats.Counter.POSTED_BATCHES));
    assertEquals(1, vcpu.stats.value(VcpuStats.Counter.POSTED_WRITES));
    assertEquals(List.of(IoregionCommand.write(9, 0, 4, 7, false)), sent(1));
  }

  @Test
  void aBurstInALoopStaysOneBatch() {
    long before = System.nanoTime();
    for (int i = 0; i < 5; i++) {
      posted.add(region, false, 0x1000_0000L, 4, i);
      assertTrue(posted.atBlock(before, 0x2000, 16));
      assertTrue(posted.atBlock(before, 0x2010, 16));
    }
    assertFalse(Poll.poll(commands.readFd(), 0).readable());
    assertTrue(posted.atBlock(before, 0x2000, 16)); // the loop turns without a write: it goes
    assertEquals(5, sent(5).size());
    assertFalse(Poll.poll(commands.readFd(), 0).readable()); // in one write of five commands
    assertEquals(1, yields);
  }

  @Test
  void aBatchDueByTimeGoesAndTheVcpuYieldsOnlyOnceTheGuestSpins() {
    posted.add(region, false, 0x1000_0000L, 4, 1);
    long later = System.nanoTime() + PostedBatch.MAX_DELAY_NANOS;
    assertTrue(posted.atBlock(later, 0x3000, 16)); // due: sent; is the guest spinning?
    assertTrue(posted.isEmpty());
    assertEquals(0, yields);
    assertTrue(posted.atBlock(later + 1, 0x2000, 16));
    assertTrue(posted.atBlock(later + 2, PAUSE_BLOCK, 16));
    assertTrue(posted.atBlock(later + 3, 0x2000, 16)); // yes: a loop with pause
    assertEquals(1, yields);
  }

  @Test
  void aLoopWithoutAPauseSendsTheBatchWithoutAYield() {
    long before = System.nanoTime();
    posted.add(region, false, 0x1000_0000L, 4, 1);
    assertTrue(posted.atBlock(before, 0x4000, 16));
    assertTrue(posted.atBlock(before, 0x4010, 16));
    assertFalse(posted.atBlock(before, 0x4000, 16)); // a loop, but work (a memset): no window
    assertTrue(posted.isEmpty());
    assertEquals(0, yields);
  }

  @Test
  void whileTheGuestSpinsTheVcpuYieldsAtTheLoopUntilTheWindowEnds() {
    long t = System.nanoTime();
    posted.add(region, false, 0x1000_0000L, 4, 1);
    posted.atBlock(t, 0x2000, 16);
    posted.atBlock(t, PAUSE_BLOCK, 16);
    assertTrue(posted.atBlock(t, 0x2000, 16)); // sent; a spin-wait: yield, window at 0x2000
    assertEquals(1, yields);
    assertTrue(posted.atBlock(t + SpinWatch.YIELD_EVERY_NANOS, 0x2000, 16));
    assertEquals(2, yields);
    assertFalse(posted.atBlock(t + SpinWatch.WINDOW_NANOS, 0x2000, 16)); // the window is over
    assertEquals(2, yields);
  }

  @Test
  void noBatchNoWindowNothingToWatch() {
    assertFalse(posted.atBlock(System.nanoTime(), 0x2000, 16));
    assertEquals(0, yields);
  }

  private List<IoregionCommand> sent(int n) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate((long) n * IoregionCommand.BYTES);
      assertEquals(buf.byteSize(), Fds.readFully(commands.readFd(), buf, buf.byteSize()));
      List<IoregionCommand> out = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        out.add(
            IoregionCommand.decode(buf.asSlice(i * IoregionCommand.BYTES, IoregionCommand.BYTES)));
      }
      return out;
    }
  }
}
