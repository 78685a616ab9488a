package dev.toykvm.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ErrnosTest {

  @Test
  void errnoNames() {
    assertEquals("EBADF", Errnos.errnoName(Errnos.EBADF));
    assertEquals("Bad file descriptor", Errnos.strerror(Errnos.EBADF));
    assertEquals("errno 4000", Errnos.errnoName(4000));
    assertEquals("unknown error", Errnos.strerror(4000));
  }

  @Test
  void aPosixExceptionNamesTheCallAndTheErrno() {
    PosixException e = new PosixException("kill(1, 9)", Errnos.EPERM);
    assertEquals("cannot kill(1, 9): EPERM (Operation not permitted)", e.getMessage());
    assertEquals("EPERM", e.errnoName());
  }
}
