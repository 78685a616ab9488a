package dev.toykvm.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class EventfdTest extends FdLeakCheckedTest {

  @Test
  void anEventfdIsToldFromOtherFds() {
    int fd = Eventfd.create();
    try (Pipe p = Fds.pipe2()) {
      org.junit.jupiter.api.Assertions.assertTrue(Eventfd.isEventfd(fd));
      org.junit.jupiter.api.Assertions.assertFalse(Eventfd.isEventfd(p.readFd()));
      org.junit.jupiter.api.Assertions.assertFalse(Eventfd.isEventfd(-1));
    } finally {
      Fds.close(fd);
    }
    org.junit.jupiter.api.Assertions.assertFalse(Eventfd.isEventfd(fd), "closed");
  }

  @Test
  void anEventfdCountsSignalsUntilDrained() {
    int fd = Eventfd.create();
    try {
      assertEquals(0, Eventfd.drain(fd));
      assertFalse(Poll.poll(fd, 0).readable());
      Eventfd.signal(fd);
      Eventfd.signal(fd);
      assertTrue(Poll.poll(fd, 0).readable());
      assertEquals(2, Eventfd.drain(fd));
      assertEquals(0, Eventfd.drain(fd));
    } finally {
      Fds.close(fd);
    }
  }

  @Test
  void signallingAClosedEventfdIsEbadf() {
    int fd = Eventfd.create();
    Fds.close(fd);
    assertEquals(
        Errnos.EBADF, assertThrows(PosixException.class, () -> Eventfd.signal(fd)).errno());
  }

  @Test
  void tryReadNeverBlocksAndCountsSignals() {
    int fd = Eventfd.create();
    try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
      java.lang.foreign.MemorySegment buffer = arena.allocate(24, 8);
      assertEquals(0, Eventfd.tryRead(fd, buffer)); // a blocking eventfd, yet no wait
      Eventfd.signal(fd);
      Eventfd.signal(fd);
      Eventfd.signal(fd);
      assertEquals(3, Eventfd.tryRead(fd, buffer));
      assertEquals(0, Eventfd.tryRead(fd, buffer));
    } finally {
      Fds.close(fd);
    }
  }

  @Test
  void anEventfdsIdIsSharedByItsDuplicatesOnly() {
    int a = Eventfd.create();
    int b = Eventfd.create();
    int dup = Fds.dup(a);
    try {
      assertTrue(Eventfd.id(a) >= 0, "this kernel shows eventfd-id");
      assertEquals(Eventfd.id(a), Eventfd.id(dup));
      assertTrue(Eventfd.id(a) != Eventfd.id(b));
      assertEquals(-1, Eventfd.id(-1));
    } finally {
      Fds.close(a);
      Fds.close(b);
      Fds.close(dup);
    }
  }
}
