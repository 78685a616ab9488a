package dev.toykvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.ioregionfd.DeviceProcess;
import dev.toykvm.ioregionfd.IoregionServer;
import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.posix.Errnos;
import dev.toykvm.posix.PosixException;
import dev.toykvm.posix.Processes;
import dev.toykvm.posix.WaitStatus;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link DeviceMain} in a child JVM, driven over its fds 0 and 1 with the wire protocol. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DeviceMainTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private java.util.Set<String> fdsBefore;

  /** Our open fds and what they point to, e.g. {@code 12 -> pipe:[4711]}. */
  static java.util.Set<String> openFds() {
    java.util.Set<String> fds = new java.util.TreeSet<>();
    for (File f : Objects.requireNonNull(new File("/proc/self/fd").listFiles())) {
      try {
        fds.add(f.getName() + " -> " + Files.readSymbolicLink(f.toPath()));
      } catch (java.io.IOException e) {
        // the fd of the directory listing itself, gone already
      }
    }
    return fds;
  }

  static DeviceProcess startDevice(String... args) {
    return DeviceProcess.start(deviceCommand(args));
  }

  static List<String> deviceCommand(String... args) {
    List<String> argv = new ArrayList<>();
    argv.add(ProcessHandle.current().info().command().orElseThrow());
    argv.add("--enable-native-access=ALL-UNNAMED");
    argv.add("-Xshare:auto");
    argv.add("-XX:TieredStopAtLevel=1");
    argv.add("-cp");
    argv.add(System.getProperty("java.class.path"));
    argv.add(DeviceMain.class.getName());
    argv.addAll(List.of(args));
    return argv;
  }

  @BeforeEach
  void countFds() {
    fdsBefore = openFds();
  }

  @AfterEach
  void noFdLeaked() {
    java.util.Set<String> leaked = openFds();
    leaked.removeAll(fdsBefore);
    assertEquals(java.util.Set.of(), leaked, "fds opened by the test and left open");
    assertEquals(fdsBefore.size(), openFds().size(), "fds open after the test vs before");
  }

  @Test
  void testdevAnswersEverySizeAndExitsZeroOnEof() {
    try (DeviceProcess dev = startDevice("testdev")) {
      for (int size : new int[] {1, 2, 4, 8}) {
        dev.write(0, TestDevice.DATA, size, 0x1122334455667788L, TIMEOUT);
        long stored = 0x1122334455667788L & BusDevice.allOnes(size);
        for (int readSize : new int[] {1, 2, 4, 8}) {
          assertEquals(
              stored & BusDevice.allOnes(readSize),
              dev.read(0, 4, readSize, TIMEOUT),
              size + "-byte write, " + readSize + "-byte read at offset 4");
        }
        assertEquals(8, dev.read(0, TestDevice.LAST_SIZE, 8, TIMEOUT));
      }
      // Posted writes: no responses, and they arrive in order before the read.
      dev.write(0, TestDevice.SEQ_IN_ORDER, 1, 0, TIMEOUT);
      for (int i = 0; i < 50; i++) {
        dev.send(IoregionCommand.write(0, TestDevice.SEQ_APPEND, 4, i, false));
      }
      assertEquals(50, dev.read(0, TestDevice.SEQ_IN_ORDER, 8, TIMEOUT));
      assertEquals(50, dev.read(0, TestDevice.SEQ_COUNT, 8, TIMEOUT));
      long before = dev.read(0, TestDevice.ACCESS_COUNT, 8, TIMEOUT);
      assertEquals(4 * 6 + 1 + 50 + 2, before);

      dev.closeCommands();
      WaitStatus st = dev.waitFor(TIMEOUT).orElseThrow(() -> new AssertionError(dev.stderr()));
      assertEquals(0, st.exitCode(), dev.stderr());
      assertTrue(dev.awaitResponseEof(TIMEOUT), "EOF on the responses after exit");
      String err = dev.awaitStderrEof(TIMEOUT);
      assertTrue(err.contains("testdev: EOF on the command fd after 78 accesses"), err);
    }
  }

  @Test
  void killedDeviceGivesEofOnItsResponses() {
    try (DeviceProcess dev = startDevice("testdev")) {
      dev.write(0, 0, 4, 0x1234, TIMEOUT); // it is up and serving
      dev.kill(Processes.SIGKILL);
      assertTrue(dev.awaitResponseEof(TIMEOUT));
      WaitStatus st = dev.waitFor(TIMEOUT).orElseThrow();
      assertEquals(Processes.SIGKILL, st.signal());
      PosixException e =
          assertThrows(PosixException.class, () -> dev.send(IoregionCommand.read(0, 0, 4)));
      assertEquals(Errnos.EPIPE, e.errno());
    }
  }

  @Test
  void garbageMakesItExitNonZeroWithoutAnAnswer() {
    try (DeviceProcess dev = startDevice("testdev")) {
      byte[] bad = new byte[32];
      bad[0] = 9;
      dev.sendRaw(bad);
      WaitStatus st = dev.waitFor(TIMEOUT).orElseThrow();
      assertEquals(IoregionServer.EXIT_BAD_COMMAND, st.exitCode());
      assertTrue(dev.awaitResponseEof(TIMEOUT), "no response, only EOF");
      String err = dev.awaitStderrEof(TIMEOUT);
      assertTrue(
          err.contains("testdev: cannot decode an ioregionfd command: unknown cmd 0x09"), err);
    }
  }

  @Test
  void uartWritesItsOutputToAFileNeverToTheProtocol() throws Exception {
    // Not @TempDir: its random names open /dev/urandom for the JVM's lifetime, which looks like
    // a leak to the fd check.
    Path out = Files.createDirectories(Path.of("target", "device-main-test")).resolve("serial.txt");
    Files.deleteIfExists(out);
    try (DeviceProcess dev = startDevice("uart", "--output", out.toString())) {
      for (char c : "hi\n".toCharArray()) {
        dev.send(IoregionCommand.write(0, Uart16550.RBR_THR_DLL, 1, c, false));
      }
      assertEquals(Uart16550.LSR_THRE | Uart16550.LSR_TEMT, dev.read(0, Uart16550.LSR, 1, TIMEOUT));
      dev.closeCommands();
      assertEquals(0, dev.waitFor(TIMEOUT).orElseThrow().exitCode(), dev.stderr());
      assertTrue(dev.awaitResponseEof(TIMEOUT));
    }
    assertEquals("hi\n", Files.readString(out));
  }

  @Test
  void uartOutputToStderr() {
    try (DeviceProcess dev = startDevice("uart", "--output", "stderr")) {
      for (char c : "serial!\n".toCharArray()) {
        dev.write(0, Uart16550.RBR_THR_DLL, 1, c, TIMEOUT);
      }
      dev.closeCommands();
      assertEquals(0, dev.waitFor(TIMEOUT).orElseThrow().exitCode(), dev.stderr());
      String err = dev.awaitStderrEof(TIMEOUT);
      assertTrue(err.contains("serial!\n"), err);
    }
  }

  @Test
  void anUnknownDeviceIsAUsageError() {
    try (DeviceProcess dev = startDevice("virtio-blk")) {
      assertEquals(2, dev.waitFor(TIMEOUT).orElseThrow().exitCode());
      String err = dev.awaitStderrEof(TIMEOUT);
      assertTrue(err.contains("unknown device"), err);
      assertTrue(dev.awaitResponseEof(TIMEOUT));
    }
  }

  @Test
  void nvmeWithoutItsOptionsIsAUsageError() {
    try (DeviceProcess dev = startDevice("nvme")) {
      assertEquals(2, dev.waitFor(TIMEOUT).orElseThrow().exitCode());
      String err = dev.awaitStderrEof(TIMEOUT);
      assertTrue(err.contains("nvme: needs --disk, --queues, --guest-ram and --pci-state"), err);
    }
    try (DeviceProcess dev = startDevice("testdev", "--disk", "/tmp/x")) {
      assertEquals(2, dev.waitFor(TIMEOUT).orElseThrow().exitCode());
      assertTrue(dev.awaitStderrEof(TIMEOUT).contains("are for nvme"));
    }
  }

  @Test
  void itDiesWithItsParent() {
    // A shell starts the device in the background on the shell's own fds, tells us its pid on
    // stderr, and waits; we kill the shell: PR_SET_PDEATHSIG must take the device with it.
    List<String> argv =
        new ArrayList<>(
            List.of(
                "/bin/sh",
                "-c", // dash points a background job's stdin at /dev/null, hence the detour through
                // fd 3.
                "exec 3<&0; \"$@\" <&3 3<&- & echo pid=$! >&2; wait",
                "sh"));
    argv.addAll(deviceCommand("testdev"));
    int devicePid = -1;
    try (DeviceProcess shell = DeviceProcess.start(argv)) {
      try {
        shell.write(0, 0, 4, 0x1234, TIMEOUT); // the device is up and serving
        String err = shell.stderr();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("pid=(\\d+)").matcher(err);
        assertTrue(m.find(), err);
        devicePid = Integer.parseInt(m.group(1));
        shell.kill(Processes.SIGKILL);
        assertEquals(Processes.SIGKILL, shell.waitFor(TIMEOUT).orElseThrow().signal());
        // We still hold the device's stdin open: only its death closes its stdout.
        assertTrue(shell.awaitResponseEof(TIMEOUT), "the device outlived its parent");
      } finally {
        if (devicePid > 0) {
          try {
            Processes.kill(devicePid, Processes.SIGKILL);
          } catch (PosixException e) {
            assertEquals(Errnos.ESRCH, e.errno()); // gone already, as it should be
          }
        }
      }
    }
  }
}
