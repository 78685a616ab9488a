package dev.toykvm.ioregionfd.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Pipe;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PostedBatchTest {
  private static final long T0 = 1_000_000_000L;

  private Pipe pipe;
  private int kick;
  private PostedBatch batch;

  @BeforeEach
  void setUp() {
    pipe = Fds.pipe2();
    kick = Eventfd.create();
    batch = new PostedBatch(kick, 1_000_000_000L);
  }

  @AfterEach
  void tearDown() {
    pipe.close();
    Fds.close(kick);
  }

  private static IoregionCommand write(long value) {
    return IoregionCommand.write(7, 0x1000, 4, value, false);
  }

  @Test
  void aLoneWriteGoesOnceTheGuestHasStoppedWriting() {
    batch.add(pipe.writeFd(), write(1), null, T0);
    assertFalse(batch.due(T0 + PostedBatch.IDLE_NANOS - 1));
    assertTrue(batch.due(T0 + PostedBatch.IDLE_NANOS));
  }

  @Test
  void aBurstWaitsForItsOldestWriteToBeDue() {
    long now = T0;
    for (int i = 0; i < 100; i++, now += 200) {
      batch.add(pipe.writeFd(), write(i), null, now);
      assertEquals(
          now - T0 >= PostedBatch.MAX_DELAY_NANOS, batch.due(now), "due after " + (now - T0));
    }
    // 100 writes 0.2 us apart: 19.8 us, so the burst is still open 1 us after the last.
    assertFalse(batch.due(now - 200 + 1_000));
  }

  @Test
  void aWriteWithinTheIdleTimeKeepsTheBatchOpenUntilTheMaximumDelay() {
    long now = T0;
    for (; now - T0 < PostedBatch.MAX_DELAY_NANOS; now += PostedBatch.IDLE_NANOS / 2) {
      batch.add(pipe.writeFd(), write(now), null, now);
    }
    assertTrue(batch.due(now));
    // Due by its oldest write, but the guest is still writing: not idle.
    assertFalse(batch.idle(now));
    assertTrue(batch.idle(now - PostedBatch.IDLE_NANOS / 2 + PostedBatch.IDLE_NANOS));
  }

  @Test
  void anEmptyBatchIsNeverIdle() {
    assertFalse(batch.idle(Long.MAX_VALUE));
  }

  @Test
  void anEmptyBatchIsNeverDueAndAFlushSendsEveryCommandInOrder() {
    assertFalse(batch.due(Long.MAX_VALUE));
    for (int i = 0; i < 3; i++) {
      batch.add(pipe.writeFd(), write(i), null, T0);
    }
    assertEquals(AccessResult.DONE, batch.flush());
    assertTrue(batch.isEmpty());
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(3L * IoregionCommand.BYTES);
      assertEquals(3L * IoregionCommand.BYTES, Fds.readFully(pipe.readFd(), buf, buf.byteSize()));
      for (int i = 0; i < 3; i++) {
        IoregionCommand c =
            IoregionCommand.decode(
                buf.asSlice((long) i * IoregionCommand.BYTES, IoregionCommand.BYTES));
        assertEquals(i, c.data());
      }
    }
  }
}
