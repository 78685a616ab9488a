package dev.toykvm.posix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;

class PollTest extends FdLeakCheckedTest {

  @Test
  void pollTimesOutThenReportsDataAndHangup() {
    try (Pipe a = Fds.pipe2();
        Pipe b = Fds.pipe2()) {
      // Nothing to read: the poll ends by its timeout with nothing ready (how long it took is not
      // asserted: no wall clock in unit tests).
      List<PollResult> r = Poll.poll(new int[] {a.readFd(), b.readFd()}, 20);
      assertFalse(r.get(0).ready());
      assertFalse(r.get(1).ready());

      put("x");
      Fds.write(b.writeFd(), buf, 1);
      r = Poll.poll(new int[] {a.readFd(), b.readFd()}, 5000);
      assertEquals(a.readFd(), r.get(0).fd());
      assertFalse(r.get(0).ready());
      assertTrue(r.get(1).readable());
      assertFalse(r.get(1).hangup());

      b.closeWriteEnd();
      PollResult hup = Poll.poll(b.readFd(), 5000);
      assertTrue(hup.readable() && hup.hangup(), "the last byte, then EOF");
    }
  }

  @Test
  void pollReportsAClosedFdAsInvalid() {
    Pipe p = Fds.pipe2();
    int fd = p.readFd();
    p.close();
    PollResult r = Poll.poll(fd, 0);
    assertEquals(Poll.POLLNVAL, r.revents());
    assertTrue(r.error());
  }

  @Test
  void pollWithEventsPerFdReportsWritableAndReadable() {
    try (Pipe p = Fds.pipe2()) {
      int[] fds = {p.readFd(), p.writeFd()};
      int[] events = {Poll.POLLIN, Poll.POLLOUT};
      assertArrayEquals(new int[] {0, Poll.POLLOUT}, Poll.poll(fds, events, 0));
      put("x");
      Fds.write(p.writeFd(), buf, 1);
      assertArrayEquals(new int[] {Poll.POLLIN, Poll.POLLOUT}, Poll.poll(fds, events, 0));
      assertThrows(
          IllegalArgumentException.class, () -> Poll.poll(fds, new int[] {Poll.POLLIN}, 0));
    }
  }

  @Test
  void pollOnACallerOwnedPollfdArray() {
    try (Pipe a = Fds.pipe2();
        Pipe b = Fds.pipe2();
        Arena arena = Arena.ofConfined()) {
      MemorySegment pollfds = arena.allocate(2 * Poll.POLLFD_BYTES, 4);
      Poll.setPollfd(pollfds, 0, a.readFd(), Poll.POLLIN);
      Poll.setPollfd(pollfds, 1, b.readFd(), Poll.POLLIN);
      assertEquals(0, Poll.poll(pollfds, 2, 0));
      put("x");
      Fds.write(b.writeFd(), buf, 1);
      assertEquals(1, Poll.poll(pollfds, 2, 0));
      assertEquals(0, Poll.revents(pollfds, 0));
      assertEquals(Poll.POLLIN, Poll.revents(pollfds, 1));
      // setPollfd clears the revents a previous poll left.
      Poll.setPollfd(pollfds, 1, a.readFd(), Poll.POLLIN);
      assertEquals(0, Poll.revents(pollfds, 1));
    }
  }
}
