package dev.toykvm.ioregionfd.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.ioregionfd.channel.KickableWait.Outcome;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Pipe;
import dev.toykvm.posix.Poll;
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
    kick = Eventfd.create();
    pipe = Fds.pipe2();
    wait = new KickableWait(kick);
  }

  @AfterEach
  void close() {
    wait.close();
    pipe.close();
    Fds.close(kick);
  }

  private static long in(long ms) {
    return System.nanoTime() + ms * 1_000_000;
  }

  @Test
  void nothingHappensUntilTheDeadline() {
    assertEquals(Outcome.TIMED_OUT, wait.await(pipe.readFd(), Poll.POLLIN, in(20)));
    assertEquals(Outcome.TIMED_OUT, wait.await(pipe.readFd(), Poll.POLLIN, in(-1)));
  }

  @Test
  void dataMakesTheFdReady() {
    Eventfd.signal(kick);
    Eventfd.drain(kick);
    try (var arena = java.lang.foreign.Arena.ofConfined()) {
      Fds.write(pipe.writeFd(), arena.allocate(1), 1);
    }
    assertEquals(Outcome.READY, wait.await(pipe.readFd(), Poll.POLLIN, in(5000)));
    assertEquals(Outcome.READY, wait.await(pipe.writeFd(), Poll.POLLOUT, in(5000)));
  }

  @Test
  void aKickEndsTheWaitAndIsLeftForItsOwner() {
    Eventfd.signal(kick);
    assertEquals(Outcome.KICKED, wait.await(pipe.readFd(), Poll.POLLIN, in(5000)));
    assertEquals(Outcome.KICKED, wait.await(pipe.readFd(), Poll.POLLIN, in(5000)));
  }

  @Test
  void aClosedPeerOrFdIsSaid() {
    pipe.closeWriteEnd();
    assertEquals(Outcome.CLOSED, wait.await(pipe.readFd(), Poll.POLLIN, in(5000)));
    assertEquals(Outcome.NOT_OPEN, wait.await(999_999, Poll.POLLIN, in(5000)));
  }
}
