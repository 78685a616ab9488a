package dev.toykvm.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FdsTest extends FdLeakCheckedTest {

  @Test
  void aPipeCarriesBytesAndReportsEof() {
    try (Pipe p = Fds.pipe2()) {
      assertTrue(Fds.isOpen(p.readFd()));
      assertTrue(Fds.isOpen(p.writeFd()));
      put("hello");
      assertEquals(5, Fds.write(p.writeFd(), buf, 5));
      assertEquals(5, Fds.read(p.readFd(), buf, 100), "a short read is returned as it is");
      assertEquals("hello", got(5));
      p.closeWriteEnd();
      assertEquals(-1, p.writeFd());
      assertEquals(0, Fds.read(p.readFd(), buf, 100), "EOF once the writer is gone");
    }
  }

  @Test
  void readFullyStopsAtEof() {
    try (Pipe p = Fds.pipe2()) {
      put("abc");
      Fds.writeFully(p.writeFd(), buf, 3);
      p.closeWriteEnd();
      assertEquals(3, Fds.readFully(p.readFd(), buf, 32));
      assertEquals(0, Fds.readFully(p.readFd(), buf, 32));
    }
  }

  @Test
  void writingToAPipeNobodyReadsIsEpipe() {
    try (Pipe p = Fds.pipe2()) {
      p.closeReadEnd();
      int fd = p.writeFd();
      PosixException e = assertThrows(PosixException.class, () -> Fds.write(fd, buf, 1));
      assertEquals(Errnos.EPIPE, e.errno());
      assertEquals("EPIPE", e.errnoName());
      assertEquals("write(" + fd + ")", e.call());
      assertEquals("cannot write(" + fd + "): EPIPE (Broken pipe)", e.getMessage());
    }
  }

  @Test
  void aClosedFdIsEbadf() {
    Pipe p = Fds.pipe2();
    int fd = p.readFd();
    p.close();
    assertFalse(Fds.isOpen(fd));
    PosixException e = assertThrows(PosixException.class, () -> Fds.read(fd, buf, 1));
    assertEquals(Errnos.EBADF, e.errno());
    assertEquals(Errnos.EBADF, assertThrows(PosixException.class, () -> Fds.close(fd)).errno());
    p.close(); // idempotent
  }

  @Test
  void aLengthPastTheBufferIsRefusedBeforeTheCall() {
    try (Pipe p = Fds.pipe2()) {
      int fd = p.writeFd();
      assertThrows(IllegalArgumentException.class, () -> Fds.write(fd, buf, 4097));
      assertThrows(IllegalArgumentException.class, () -> Fds.read(fd, buf, -1));
    }
  }

  @Test
  void aDupOutlivesTheFdItCopies() {
    try (Pipe p = Fds.pipe2()) {
      int copy = Fds.dup(p.writeFd());
      try {
        assertTrue(copy > 2 && copy != p.writeFd() && copy != p.readFd());
        p.closeWriteEnd();
        put("y");
        assertEquals(1, Fds.write(copy, buf, 1), "the copy still writes to the pipe");
        assertEquals(1, Fds.read(p.readFd(), buf, 1));
        assertEquals("y", got(1));
      } finally {
        Fds.close(copy);
      }
      assertEquals(0, Fds.read(p.readFd(), buf, 1), "EOF once the last writer is gone");
      assertEquals(Errnos.EBADF, assertThrows(PosixException.class, () -> Fds.dup(copy)).errno());
    }
  }

  @Test
  void aReopenedFdHasItsOwnFlags() {
    try (Pipe p = Fds.pipe2()) {
      int nonBlocking = Fds.reopen(p.readFd(), Fds.O_NONBLOCK);
      try {
        PosixException e = assertThrows(PosixException.class, () -> Fds.read(nonBlocking, buf, 1));
        assertEquals(Errnos.EAGAIN, e.errno(), "an empty pipe, read without blocking");
        put("z");
        Fds.write(p.writeFd(), buf, 1);
        assertEquals(1, Fds.read(nonBlocking, buf, 1), "the same pipe");
        assertEquals("z", got(1));
      } finally {
        Fds.close(nonBlocking);
      }
      int writer = Fds.reopen(p.readFd(), Fds.O_WRONLY);
      Fds.close(writer);
    }
  }

  @Test
  void reopeningAClosedFdIsEnoent() {
    Pipe p = Fds.pipe2();
    int fd = p.readFd();
    p.close();
    assertEquals(
        Errnos.ENOENT, assertThrows(PosixException.class, () -> Fds.reopen(fd, 0)).errno());
  }

  @Test
  void openGivesAPlainFdForAFileAndSaysWhyItCannot() {
    int fd = Fds.open("/dev/zero", Fds.O_RDWR);
    try {
      buf.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 7);
      assertEquals(3, Fds.read(fd, buf, 3));
      assertEquals(0, buf.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
    } finally {
      Fds.close(fd);
    }
    PosixException e =
        assertThrows(PosixException.class, () -> Fds.open("/nonexistent/toykvm", Fds.O_RDWR));
    assertEquals(Errnos.ENOENT, e.errno());
  }
}
