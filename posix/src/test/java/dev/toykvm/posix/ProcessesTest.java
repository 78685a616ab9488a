package dev.toykvm.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ProcessesTest extends FdLeakCheckedTest {

  @Test
  void catEchoesThroughDup2edPipesAndIsReaped() {
    try (Pipe in = Fds.pipe2();
        Pipe out = Fds.pipe2();
        Pipe err = Fds.pipe2()) {
      int pid =
          Processes.spawnp(
              List.of("/bin/sh", "-c", "cat"), in.readFd(), out.writeFd(), err.writeFd());
      in.closeReadEnd();
      out.closeWriteEnd();
      err.closeWriteEnd();
      put("ping\n");
      Fds.writeFully(in.writeFd(), buf, 5);
      assertTrue(Poll.poll(out.readFd(), 10_000).readable(), "cat did not echo within 10 s");
      assertEquals(5, Fds.readFully(out.readFd(), buf, 5));
      assertEquals("ping\n", got(5));
      in.closeWriteEnd();
      WaitStatus st = Processes.waitpid(pid, true).orElseThrow();
      assertEquals(new WaitStatus(pid, 0, 0), st);
      assertTrue(st.exited());
      assertEquals(0, Fds.read(out.readFd(), buf, 1), "the child's stdout is closed");
      assertEquals(0, Fds.read(err.readFd(), buf, 1), "nothing on stderr");
    }
  }

  @Test
  void theChildInheritsOnlyItsThreeFds() throws Exception {
    // The JVM opens files without O_CLOEXEC: such an fd must not reach the child either. The
    // child's fds are read from /proc by this process once the child echoed a byte back, so that
    // its start-up (the dynamic loader opens libraries on fd 3 for a moment) is over.
    try (Pipe in = Fds.pipe2();
        Pipe out = Fds.pipe2();
        var notCloseOnExec = new java.io.FileInputStream("/dev/null")) {
      int pid = Processes.spawnp(List.of("cat"), in.readFd(), out.writeFd(), 2);
      try (var arena = java.lang.foreign.Arena.ofConfined()) {
        var one = arena.allocate(1);
        Fds.writeFully(in.writeFd(), one, 1);
        assertEquals(1, Fds.readFully(out.readFd(), one, 1), "cat echoed");
        String[] fds = new File("/proc/" + pid + "/fd").list();
        assertTrue(fds != null, "the child is running");
        assertEquals(
            List.of(0, 1, 2),
            java.util.Arrays.stream(fds).map(Integer::valueOf).sorted().toList(),
            "the child's fds");
      } finally {
        Processes.kill(pid, 9);
        Processes.waitpid(pid, true);
      }
    }
  }

  @Test
  void waitpidWithoutBlockingSeesARunningChildThenItsSignal() throws Exception {
    try (Pipe in = Fds.pipe2()) {
      int pid = Processes.spawnp(List.of("sleep", "60"), in.readFd(), 2, 2);
      try {
        assertEquals(Optional.empty(), Processes.waitpid(pid, false));
      } finally {
        Processes.kill(pid, Processes.SIGKILL);
      }
      WaitStatus st = Processes.waitpid(pid, true).orElseThrow();
      assertFalse(st.exited());
      assertEquals(Processes.SIGKILL, st.signal());
      assertEquals(
          Errnos.ECHILD,
          assertThrows(PosixException.class, () -> Processes.waitpid(pid, false)).errno());
    }
  }

  @Test
  void exitStatusesAreDecoded() {
    try (Pipe in = Fds.pipe2()) {
      int pid = Processes.spawnp(List.of("/bin/sh", "-c", "exit 42"), in.readFd(), 2, 2);
      assertEquals(42, Processes.waitpid(pid, true).orElseThrow().exitCode());
    }
  }

  @Test
  void anUnknownProgramIsEnoent() {
    try (Pipe in = Fds.pipe2()) {
      PosixException e =
          assertThrows(
              PosixException.class,
              () -> Processes.spawnp(List.of("no-such-program-toykvm"), in.readFd(), 2, 2));
      assertEquals(Errnos.ENOENT, e.errno());
    }
  }

  @Test
  void killOfNoProcessIsEsrch() {
    // Reap a child, then its pid names nothing of ours (pid reuse within the test is negligible).
    try (Pipe in = Fds.pipe2()) {
      int pid = Processes.spawnp(List.of("true"), in.readFd(), 2, 2);
      Processes.waitpid(pid, true);
      assertEquals(
          Errnos.ESRCH,
          assertThrows(PosixException.class, () -> Processes.kill(pid, Processes.SIGTERM)).errno());
    }
  }

  @Test
  void parentDeathSignalAndPids() {
    Processes.setParentDeathSignal(0); // 0 clears it: harmless for the test JVM
    assertEquals(ProcessHandle.current().pid(), Processes.getpid());
    assertNotEquals(1, Processes.getppid());
    assertEquals(
        Errnos.EINVAL,
        assertThrows(PosixException.class, () -> Processes.setParentDeathSignal(1000)).errno());
  }
}
