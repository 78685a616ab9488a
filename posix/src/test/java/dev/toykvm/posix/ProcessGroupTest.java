package dev.toykvm.posix;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ProcessGroupTest {

  private static int pgid(int pid) throws Exception {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[2]);
  }

  @Test
  void aChildInANewSessionLeadsItsGroupAndKillingTheGroupEndsWhatItForked() throws Exception {
    try (Pipe in = Fds.pipe2();
        Pipe out = Fds.pipe2()) {
      // The shell forks a sleeper, says so, then holds.
      int pid =
          Processes.spawnpInNewSession(
              List.of("/bin/sh", "-c", "sleep 1000 & echo started; exec sleep 1000"),
              new int[] {in.readFd(), out.writeFd(), 2});
      out.closeWriteEnd();
      try {
        assertTrue(Poll.poll(out.readFd(), 10_000).readable(), "the shell did not start");
        assertEquals(pid, pgid(pid), "the child leads its own group");
        await("both sleepers in the group")
            .atMost(Duration.ofSeconds(10))
            .until(() -> ProcessGroup.members(pid).size() == 2);
        assertFalse(ProcessGroup.hasEnded(pid));
        assertTrue(ProcessGroup.kill(pid, Processes.SIGKILL));
        await("the leader ended")
            .atMost(Duration.ofSeconds(10))
            .until(() -> ProcessGroup.hasEnded(pid));
        // hasEnded did not reap: the leader is still ours to reap, once.
        assertEquals(Processes.SIGKILL, Processes.waitpid(pid, true).orElseThrow().signal());
        await("no live process left in the group")
            .atMost(Duration.ofSeconds(10))
            .untilAsserted(() -> assertEquals(List.of(), ProcessGroup.members(pid)));
      } finally {
        ProcessGroup.kill(pid, Processes.SIGKILL);
        try {
          Processes.waitpid(pid, true);
        } catch (PosixException e) {
          // reaped above
        }
      }
    }
  }

  @Test
  void aGroupWithNobodyLeftIsFalseNotAnError() {
    try (Pipe in = Fds.pipe2()) {
      int pid = Processes.spawnpInNewSession(List.of("true"), new int[] {in.readFd(), 2, 2});
      Processes.waitpid(pid, true);
      assertFalse(ProcessGroup.kill(pid, Processes.SIGKILL));
      assertEquals(
          Errnos.ECHILD,
          assertThrows(PosixException.class, () -> ProcessGroup.hasEnded(pid)).errno());
    }
  }

  @Test
  void groupsZeroAndOneAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> ProcessGroup.kill(0, Processes.SIGKILL));
    assertThrows(IllegalArgumentException.class, () -> ProcessGroup.kill(1, Processes.SIGKILL));
  }
}
