package dev.toykvm.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PosixTest {
  private final Arena arena = Arena.ofConfined();
  private final MemorySegment buf = arena.allocate(4096);
  private int fdsBefore;

  static int openFds() {
    return Objects.requireNonNull(new File("/proc/self/fd").list()).length;
  }

  @BeforeEach
  void countFds() {
    fdsBefore = openFds();
  }

  @AfterEach
  void noFdLeaked() {
    arena.close();
    assertEquals(fdsBefore, openFds(), "fds open after the test vs before");
  }

  private void put(String s) {
    buf.copyFrom(MemorySegment.ofArray(s.getBytes(StandardCharsets.US_ASCII)));
  }

  private String got(long n) {
    return new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII);
  }

  @Test
  void aPipeCarriesBytesAndReportsEof() {
    try (Pipe p = Posix.pipe2()) {
      assertTrue(Posix.isOpen(p.readFd()));
      assertTrue(Posix.isOpen(p.writeFd()));
      put("hello");
      assertEquals(5, Posix.write(p.writeFd(), buf, 5));
      assertEquals(5, Posix.read(p.readFd(), buf, 100), "a short read is returned as it is");
      assertEquals("hello", got(5));
      p.closeWriteEnd();
      assertEquals(-1, p.writeFd());
      assertEquals(0, Posix.read(p.readFd(), buf, 100), "EOF once the writer is gone");
    }
  }

  @Test
  void readFullyStopsAtEof() {
    try (Pipe p = Posix.pipe2()) {
      put("abc");
      Posix.writeFully(p.writeFd(), buf, 3);
      p.closeWriteEnd();
      assertEquals(3, Posix.readFully(p.readFd(), buf, 32));
      assertEquals(0, Posix.readFully(p.readFd(), buf, 32));
    }
  }

  @Test
  void writingToAPipeNobodyReadsIsEpipe() {
    try (Pipe p = Posix.pipe2()) {
      p.closeReadEnd();
      int fd = p.writeFd();
      PosixException e = assertThrows(PosixException.class, () -> Posix.write(fd, buf, 1));
      assertEquals(Posix.EPIPE, e.errno());
      assertEquals("EPIPE", e.errnoName());
      assertEquals("write(" + fd + ")", e.call());
      assertEquals("cannot write(" + fd + "): EPIPE (Broken pipe)", e.getMessage());
    }
  }

  @Test
  void aClosedFdIsEbadf() {
    Pipe p = Posix.pipe2();
    int fd = p.readFd();
    p.close();
    assertFalse(Posix.isOpen(fd));
    PosixException e = assertThrows(PosixException.class, () -> Posix.read(fd, buf, 1));
    assertEquals(Posix.EBADF, e.errno());
    assertEquals(Posix.EBADF, assertThrows(PosixException.class, () -> Posix.close(fd)).errno());
    p.close(); // idempotent
  }

  @Test
  void aLengthPastTheBufferIsRefusedBeforeTheCall() {
    try (Pipe p = Posix.pipe2()) {
      int fd = p.writeFd();
      assertThrows(IllegalArgumentException.class, () -> Posix.write(fd, buf, 4097));
      assertThrows(IllegalArgumentException.class, () -> Posix.read(fd, buf, -1));
    }
  }

  @Test
  void pollTimesOutThenReportsDataAndHangup() {
    try (Pipe a = Posix.pipe2();
        Pipe b = Posix.pipe2()) {
      long start = System.nanoTime();
      List<PollResult> r = Posix.poll(new int[] {a.readFd(), b.readFd()}, 100);
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertTrue(ms >= 90, "poll returned after " + ms + " ms, before its timeout");
      assertFalse(r.get(0).ready());
      assertFalse(r.get(1).ready());

      put("x");
      Posix.write(b.writeFd(), buf, 1);
      r = Posix.poll(new int[] {a.readFd(), b.readFd()}, 5000);
      assertEquals(a.readFd(), r.get(0).fd());
      assertFalse(r.get(0).ready());
      assertTrue(r.get(1).readable());
      assertFalse(r.get(1).hangup());

      b.closeWriteEnd();
      PollResult hup = Posix.poll(b.readFd(), 5000);
      assertTrue(hup.readable() && hup.hangup(), "the last byte, then EOF");
    }
  }

  @Test
  void pollReportsAClosedFdAsInvalid() {
    Pipe p = Posix.pipe2();
    int fd = p.readFd();
    p.close();
    PollResult r = Posix.poll(fd, 0);
    assertEquals(Posix.POLLNVAL, r.revents());
    assertTrue(r.error());
  }

  @Test
  void anEventfdCountsSignalsUntilDrained() {
    int fd = Posix.eventfd();
    try {
      assertEquals(0, Posix.drainEventfd(fd));
      assertFalse(Posix.poll(fd, 0).readable());
      Posix.signalEventfd(fd);
      Posix.signalEventfd(fd);
      assertTrue(Posix.poll(fd, 0).readable());
      assertEquals(2, Posix.drainEventfd(fd));
      assertEquals(0, Posix.drainEventfd(fd));
    } finally {
      Posix.close(fd);
    }
  }

  @Test
  void catEchoesThroughDup2edPipesAndIsReaped() {
    try (Pipe in = Posix.pipe2();
        Pipe out = Posix.pipe2();
        Pipe err = Posix.pipe2()) {
      int pid =
          Posix.spawnp(List.of("/bin/sh", "-c", "cat"), in.readFd(), out.writeFd(), err.writeFd());
      in.closeReadEnd();
      out.closeWriteEnd();
      err.closeWriteEnd();
      put("ping\n");
      Posix.writeFully(in.writeFd(), buf, 5);
      assertTrue(Posix.poll(out.readFd(), 10_000).readable(), "cat did not echo within 10 s");
      assertEquals(5, Posix.readFully(out.readFd(), buf, 5));
      assertEquals("ping\n", got(5));
      in.closeWriteEnd();
      WaitStatus st = Posix.waitpid(pid, true).orElseThrow();
      assertEquals(new WaitStatus(pid, 0, 0), st);
      assertTrue(st.exited());
      assertEquals(0, Posix.read(out.readFd(), buf, 1), "the child's stdout is closed");
      assertEquals(0, Posix.read(err.readFd(), buf, 1), "nothing on stderr");
    }
  }

  @Test
  void theChildInheritsOnlyItsThreeFds() throws Exception {
    // The JVM opens files without O_CLOEXEC: such an fd must not reach the child either. The
    // child's fds are read from /proc by this process (a shell listing its own would show the fds
    // of its own pipelines): posix_spawnp returns once the child has exec'd.
    try (Pipe in = Posix.pipe2();
        var notCloseOnExec = new java.io.FileInputStream("/dev/null")) {
      int pid = Posix.spawnp(List.of("sleep", "30"), in.readFd(), 2, 2);
      try {
        String[] fds = new File("/proc/" + pid + "/fd").list();
        assertTrue(fds != null, "the child is running");
        assertEquals(
            List.of(0, 1, 2),
            java.util.Arrays.stream(fds).map(Integer::valueOf).sorted().toList(),
            "the child's fds");
      } finally {
        Posix.kill(pid, 9);
        Posix.waitpid(pid, true);
      }
    }
  }

  @Test
  void waitpidWithoutBlockingSeesARunningChildThenItsSignal() throws Exception {
    try (Pipe in = Posix.pipe2()) {
      int pid = Posix.spawnp(List.of("sleep", "60"), in.readFd(), 2, 2);
      try {
        assertEquals(Optional.empty(), Posix.waitpid(pid, false));
      } finally {
        Posix.kill(pid, Posix.SIGKILL);
      }
      WaitStatus st = Posix.waitpid(pid, true).orElseThrow();
      assertFalse(st.exited());
      assertEquals(Posix.SIGKILL, st.signal());
      assertEquals(
          Posix.ECHILD,
          assertThrows(PosixException.class, () -> Posix.waitpid(pid, false)).errno());
    }
  }

  @Test
  void exitStatusesAreDecoded() {
    try (Pipe in = Posix.pipe2()) {
      int pid = Posix.spawnp(List.of("/bin/sh", "-c", "exit 42"), in.readFd(), 2, 2);
      assertEquals(42, Posix.waitpid(pid, true).orElseThrow().exitCode());
    }
  }

  @Test
  void anUnknownProgramIsEnoent() {
    try (Pipe in = Posix.pipe2()) {
      PosixException e =
          assertThrows(
              PosixException.class,
              () -> Posix.spawnp(List.of("no-such-program-toykvm"), in.readFd(), 2, 2));
      assertEquals(Posix.ENOENT, e.errno());
    }
  }

  @Test
  void killOfNoProcessIsEsrch() {
    // Reap a child, then its pid names nothing of ours (pid reuse within the test is negligible).
    try (Pipe in = Posix.pipe2()) {
      int pid = Posix.spawnp(List.of("true"), in.readFd(), 2, 2);
      Posix.waitpid(pid, true);
      assertEquals(
          Posix.ESRCH,
          assertThrows(PosixException.class, () -> Posix.kill(pid, Posix.SIGTERM)).errno());
    }
  }

  @Test
  void parentDeathSignalAndPids() {
    Posix.setParentDeathSignal(0); // 0 clears it: harmless for the test JVM
    assertEquals(ProcessHandle.current().pid(), Posix.getpid());
    assertNotEquals(1, Posix.getppid());
    assertEquals(
        Posix.EINVAL,
        assertThrows(PosixException.class, () -> Posix.setParentDeathSignal(1000)).errno());
  }

  @Test
  void errnoNames() {
    assertEquals("EBADF", Posix.errnoName(Posix.EBADF));
    assertEquals("Bad file descriptor", Posix.strerror(Posix.EBADF));
    assertEquals("errno 4000", Posix.errnoName(4000));
  }
}
