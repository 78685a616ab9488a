package dev.toykvm.ioregionfd;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.ioregionfd.DeviceProcess.NoResponse;
import dev.toykvm.ioregionfd.DeviceProcess.NoResponseException;
import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.ProcessGroup;
import java.io.File;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A device program in a child process: its process group, its answers, its stderr. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DeviceProcessTest {
  private int fdsBefore;

  @BeforeEach
  void countFds() {
    fdsBefore = openFds();
  }

  @AfterEach
  void noFdLeaked() {
    await("fds back to where they were")
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertEquals(fdsBefore, openFds()));
  }

  private static int openFds() {
    return Objects.requireNonNull(new File("/proc/self/fd").list()).length;
  }

  private static DeviceProcess sh(String script) {
    return DeviceProcess.start(List.of("/bin/sh", "-c", script));
  }

  /** A child that forks a sleeper and then holds, or exits on EOF: nothing of it outlives it. */
  @ParameterizedTest
  @ValueSource(strings = {"exec sleep 1000", "cat >/dev/null"})
  void whatTheChildForkedEndsWithIt(String thenWhat) {
    int pgid;
    try (DeviceProcess p = sh("sleep 1000 & echo forked >&2; " + thenWhat)) {
      pgid = p.pid();
      await("the child forked its sleeper")
          .atMost(Duration.ofSeconds(10))
          .until(() -> p.stderr().contains("forked"));
      assertTrue(ProcessGroup.members(pgid).size() >= 2, "the child and its sleeper (and cat)");
      p.closeCommands();
    }
    await("no process of the device's group left")
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertEquals(List.of(), ProcessGroup.members(pgid)));
  }

  @Test
  void aChildThatExitsOnEofLeavesNoSleeperBehindWhenReaped() {
    try (DeviceProcess p = sh("sleep 1000 & echo forked >&2; cat >/dev/null")) {
      await().atMost(Duration.ofSeconds(10)).until(() -> p.stderr().contains("forked"));
      p.closeCommands();
      assertEquals(0, p.waitFor(Duration.ofSeconds(10)).orElseThrow().exitCode());
      await("reaping the child ended its group")
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(() -> assertEquals(List.of(), ProcessGroup.members(p.pid())));
      // The sleeper held our stderr pipe: its end lets the collector finish.
      p.awaitStderrEof(Duration.ofSeconds(10));
    }
  }

  @Test
  void aSilentChildTimesOut() {
    try (DeviceProcess p = sh("exec sleep 1000")) {
      p.send(IoregionCommand.read(1, 0, 1));
      NoResponseException e =
          assertThrows(
              NoResponseException.class, () -> p.awaitRawResponse(Duration.ofMillis(100), -1));
      assertEquals(NoResponse.TIMED_OUT, e.reason());
      assertTrue(e.getMessage().contains("none within 100 ms"), e.getMessage());
    }
  }

  @Test
  void aSignalledWakeFdEndsTheWait() {
    int wake = Eventfd.create();
    try (DeviceProcess p = sh("exec sleep 1000")) {
      p.send(IoregionCommand.read(1, 0, 1));
      Eventfd.signal(wake);
      NoResponseException e =
          assertThrows(
              NoResponseException.class, () -> p.awaitRawResponse(Duration.ofHours(1), wake));
      assertEquals(NoResponse.WOKEN, e.reason());
    } finally {
      Fds.close(wake);
    }
  }

  @Test
  void aChildThatDiesIsEof() {
    try (DeviceProcess p = sh("echo bye >&2; exit 3")) {
      NoResponseException e =
          assertThrows(
              NoResponseException.class, () -> p.awaitRawResponse(Duration.ofSeconds(30), -1));
      assertEquals(NoResponse.EOF, e.reason());
      assertTrue(e.getMessage().contains("exited with status 3"), e.getMessage());
      assertTrue(e.getMessage().contains("bye"), e.getMessage());
    }
  }

  /** The RFC ignores a write response's data and the padding: so does the VMM route. */
  @Test
  void aWriteResponseWithDataAndPaddingIsAccepted() {
    // One response: data = 0x2a, and a non-zero padding byte at 31.
    String answer = "printf '\\052" + "\\000".repeat(30) + "\\377'";
    try (DeviceProcess p = sh("head -c 32 >/dev/null; " + answer + "; cat >/dev/null")) {
      p.write(1, 0, 1, 0x55, Duration.ofSeconds(30));
    }
    try (DeviceProcess p = sh("head -c 32 >/dev/null; " + answer + "; cat >/dev/null")) {
      p.send(IoregionCommand.read(1, 0, 1));
      MemorySegment raw = p.awaitRawResponse(Duration.ofSeconds(30), -1);
      assertEquals(0x2a, raw.get(DeviceProcess.RESPONSE_DATA, 0));
      assertEquals((byte) 0xff, raw.get(ValueLayout.JAVA_BYTE, 31));
    }
  }

  /** A child that floods stderr without a newline: lines are cut, memory stays bounded. */
  @Test
  void stderrWithoutNewlinesIsCutIntoBoundedLines() {
    List<Integer> lengths = new CopyOnWriteArrayList<>();
    List<String> notices = new CopyOnWriteArrayList<>();
    try (DeviceProcess p =
        DeviceProcess.start(
            List.of("/bin/sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' x >&2; exec sleep 1000"),
            line -> {
              if (line.startsWith("(toykvm:")) {
                notices.add(line);
              } else {
                lengths.add(line.length());
              }
            })) {
      await("the flood arrived")
          .atMost(Duration.ofSeconds(30))
          .until(() -> lengths.stream().mapToInt(Integer::intValue).sum() >= 1_000_000 - 4096);
      assertTrue(lengths.stream().allMatch(n -> n == StderrCollector.MAX_LINE), "" + lengths);
      assertEquals(1, notices.size(), "the cut is said once: " + notices);
      assertTrue(notices.getFirst().contains("longer than 4096 bytes"), notices.getFirst());
      assertEquals(StderrCollector.KEPT, p.stderr().length(), "the kept tail is bounded");
    }
  }
}
