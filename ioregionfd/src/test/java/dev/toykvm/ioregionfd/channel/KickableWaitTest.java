package dev.toykvm.ioregionfd.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.ioregionfd.channel.KickableWait.Outcome;
import dev.toykvm.posix.Pipe;
import dev.toykvm.posix.Posix;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class KickableWaitTest {
  private int kick;
  private Pipe pipe;
  private KickableWait wait;

  @BeforeEach
  void open() {
    kick = Posix.eventfd();
    pipe = Posix.pipe2();
    wait = new KickableWait(kick);
  }

  @AfterEach
  void close() {
    wait.close();
    pipe.close();
    Posix.close(kick);
  }

  private static long in(long ms) {
    return System.nanoTime() + ms * 1_000_000;
  }

  @Test
  void nothingHappensUntilTheDeadline() {
    assertEquals(Outcome.TIMED_OUT, wait.await(pipe.readFd(), Posix.POLLIN, in(20)));
    assertEquals(Outcome.TIMED_OUT, wait.await(pipe.readFd(), Posix.POLLIN, in(-1)));
  }

  @Test
  void dataMakesTheFdReady() {
    Posix.signalEventfd(kick);
    Posix.drainEventfd(kick);
    try (var arena = java.lang.foreign.Arena.ofConfined()) {
      Posix.write(pipe.writeFd(), arena.allocate(1), 1);
    }
    assertEquals(Outcome.READY, wait.await(pipe.readFd(), Posix.POLLIN, in(5000)));
    assertEquals(Outcome.READY, wait.await(pipe.writeFd(), Posix.POLLOUT, in(5000)));
  }

  @Test
  void aKickEndsTheWaitAndIsLeftForItsOwner() {
    Posix.signalEventfd(kick);
    assertEquals(Outcome.KICKED, wait.await(pipe.readFd(), Posix.POLLIN, in(5000)));
    assertEquals(Outcome.KICKED, wait.await(pipe.readFd(), Posix.POLLIN, in(5000)));
  }

  @Test
  void aClosedPeerOrFdIsSaid() {
    pipe.closeWriteEnd();
    assertEquals(Outcome.CLOSED, wait.await(pipe.readFd(), Posix.POLLIN, in(5000)));
    assertEquals(Outcome.NOT_OPEN, wait.await(999_999, Posix.POLLIN, in(5000)));
  }
}
