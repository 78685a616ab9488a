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
}
