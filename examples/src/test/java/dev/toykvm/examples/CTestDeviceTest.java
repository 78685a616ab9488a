package dev.toykvm.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.toykvm.ioregionfd.DeviceProcess;
import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.posix.Processes;
import dev.toykvm.posix.WaitStatus;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** examples/c-testdev/testdev.c, built with gcc, driven over pipes with the Java encoder. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CTestDeviceTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final Path SOURCE = Path.of("c-testdev", "testdev.c");
  private static final Path BINARY = Path.of("target", "c-testdev", "testdev");
  private int fdsBefore;

  @BeforeAll
  static void build() throws IOException, InterruptedException {
    assumeTrue(
        onPath("gcc"), "gcc is not on PATH: skipping the C device (install gcc to run this test)");
    Files.createDirectories(BINARY.getParent());
    Process gcc =
        new ProcessBuilder(
                "gcc",
                "-O2",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-std=c11",
                "-o",
                BINARY.toString(),
                SOURCE.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(gcc.getInputStream().readAllBytes());
    assertTrue(gcc.waitFor(60, TimeUnit.SECONDS), "gcc did not finish in 60 s");
    assertEquals(0, gcc.exitValue(), "gcc failed:\n" + out);
  }

  private static boolean onPath(String program) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }

  @BeforeEach
  void countFds() {
    fdsBefore = Objects.requireNonNull(new File("/proc/self/fd").list()).length;
  }

  @AfterEach
  void noFdLeaked() {
    assertEquals(fdsBefore, Objects.requireNonNull(new File("/proc/self/fd").list()).length);
  }

  private static DeviceProcess start() {
    return DeviceProcess.start(List.of(BINARY.toAbsolutePath().toString()));
  }

  @Test
  void theRfcTestAgainstTheCDevice() {
    try (DeviceProcess dev = start()) {
      // out{b,w,l} 0x11223344 at offset 0, in{b,w,l} at offset 4: the value, truncated.
      for (int size : new int[] {1, 2, 4, 8}) {
        dev.write(0, 0, size, 0x11223344L, TIMEOUT);
        long stored = 0x11223344L & IoregionCommand.mask(size);
        for (int readSize : new int[] {1, 2, 4, 8}) {
          assertEquals(stored & IoregionCommand.mask(readSize), dev.read(0, 4, readSize, TIMEOUT));
        }
      }
      dev.write(0, 0, 8, 0x8877665544332211L, TIMEOUT);
      assertEquals(0x8877665544332211L, dev.read(0xdeadbeefL, 7, 8, TIMEOUT));
      assertEquals(0, dev.read(0, 8, 8, TIMEOUT), "past the window reads 0");
      dev.send(IoregionCommand.write(0, 0, 2, 0xabcd, false)); // posted: no response
      assertEquals(0xabcd, dev.read(0, 0, 4, TIMEOUT));
      dev.closeCommands();
      WaitStatus st = dev.waitFor(TIMEOUT).orElseThrow();
      assertEquals(0, st.exitCode(), dev.stderr());
      assertTrue(dev.awaitResponseEof(TIMEOUT));
      assertEquals("c-testdev: EOF after 25 accesses\n", dev.awaitStderrEof(TIMEOUT));
    }
  }

  @Test
  void garbageMakesItExitTwoWithoutAnAnswer() {
    try (DeviceProcess dev = start()) {
      byte[] bad = new byte[32];
      bad[1] = 0x14; // size exponent 4
      dev.sendRaw(bad);
      assertEquals(2, dev.waitFor(TIMEOUT).orElseThrow().exitCode());
      assertTrue(dev.awaitResponseEof(TIMEOUT));
      String err = dev.awaitStderrEof(TIMEOUT);
      assertTrue(err.startsWith("c-testdev: cannot decode a command"), err);
    }
  }

  @Test
  void killedItGivesEof() {
    try (DeviceProcess dev = start()) {
      dev.write(0, 0, 1, 1, TIMEOUT);
      dev.kill(Processes.SIGKILL);
      assertTrue(dev.awaitResponseEof(TIMEOUT));
      assertEquals(Processes.SIGKILL, dev.waitFor(TIMEOUT).orElseThrow().signal());
    }
  }
}
