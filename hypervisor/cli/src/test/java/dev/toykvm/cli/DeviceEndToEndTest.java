package dev.toykvm.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.images.TestImage;
import dev.toykvm.posix.ProcessGroup;
import dev.toykvm.vmm.ExitCodes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The testdev images against a test device in another process, by every route, and what happens
 * when a device process dies, stalls or is left behind.
 */
@Tag("e2e")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DeviceEndToEndTest {

  private static String expected(String image) {
    return TestImage.load(image).manifest().expectSerial().orElseThrow();
  }

  @Test
  void pioTestdevPassesWithTheDeviceOverIoregionfd() {
    MainTest.Result r =
        MainTest.toykvm("run", "--device", "testdev,pio=0x1234,size=8", "pio-testdev");
    assertEquals(0, r.status(), r.err());
    assertEquals(expected("pio-testdev"), r.out());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"route=ioregionfd", "route=ioregionfd,posted=on", "route=vmm", "route=in-process"})
  void mmioTestdevPassesByEveryRoute(String route) {
    MainTest.Result r =
        MainTest.toykvm(
            "run", "--device", "testdev,mmio=0xfeb00000,size=0x1000," + route, "mmio-testdev");
    assertEquals(0, r.status(), r.err());
    assertEquals(expected("mmio-testdev"), r.out());
  }

  @Test
  void deviceThatDiesGivesTheDeviceStatusAndNamesIt(@TempDir Path dir) throws IOException {
    Path quitter = script(dir, "quitter", "echo 'quitter: giving up' >&2; exit 3");
    MainTest.Result r =
        MainTest.toykvm("run", "--device", "exec=" + quitter + ",pio=0x1234,size=8", "pio-testdev");
    assertEquals(ExitCodes.DEVICE, r.status(), r.err());
    // The guest's access to it fails (EIO), unless the VMM's device watch saw it dead first.
    assertTrue(
        r.err().contains("KVM_EXIT_IOREGIONFD_FAILURE, EIO")
            || r.err().contains("it exited with status 3 while the VM ran"),
        r.err());
    assertTrue(r.err().contains("device quitter@pio:0x1234"), r.err());
    assertTrue(r.err().contains("quitter: giving up"), r.err());
  }

  /**
   * A device that never answers ({@code mute}: keeps its pipes open, reads nothing), or that sends
   * garbage ({@code mumbler}: a 3-byte answer, a response being 32 bytes, then nothing; the kernel
   * side or the VMM keeps the part and waits for the rest): the device timeout ends the VM with the
   * device status, naming the device, by either process route.
   */
  @ParameterizedTest
  @CsvSource({
    "ioregionfd, mute, exec sleep 600",
    "vmm, mute, exec sleep 600",
    "ioregionfd, mumbler, head -c 32 >/dev/null; printf abc; exec sleep 600",
    "vmm, mumbler, head -c 32 >/dev/null; printf abc; exec sleep 600"
  })
  void deviceThatNeverAnswersWholeTimesOut(
      String route, String name, String body, @TempDir Path dir) throws IOException {
    Path device = script(dir, name, body);
    String before = System.getProperty("toykvm.ioregionfd.timeout.ms");
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--com1-route",
            "in-process",
            "--device-timeout",
            "300ms",
            "--device",
            "exec=" + device + ",pio=0x1234,size=8,route=" + route,
            "pio-testdev");
    assertEquals(ExitCodes.DEVICE, r.status(), r.err());
    assertTrue(r.err().contains("EAGAIN"), r.err());
    if (name.equals("mute")) {
      assertTrue(r.err().contains("waited 300 ms for the response"), r.err());
    }
    assertTrue(r.err().contains("device " + name + "@pio:0x1234"), r.err());
    assertEquals(before, System.getProperty("toykvm.ioregionfd.timeout.ms"), "restored");
  }

  /**
   * A device that sends a 3-byte answer and exits: the half response is a failure (EIO, or the
   * device watch's report of the exit), never a value the guest reads.
   */
  @ParameterizedTest
  @ValueSource(strings = {"ioregionfd", "vmm"})
  void deviceThatAnswersPartOfAResponseAndExitsFails(String route, @TempDir Path dir)
      throws IOException {
    Path stutter = script(dir, "stutter", "head -c 32 >/dev/null; printf abc; exit 0");
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--com1-route",
            "in-process",
            "--device",
            "exec=" + stutter + ",pio=0x1234,size=8,route=" + route,
            "pio-testdev");
    assertEquals(ExitCodes.DEVICE, r.status(), r.err());
    assertTrue(
        r.err().contains("EIO") || r.err().contains("it exited with status 0 while the VM ran"),
        r.err());
    assertTrue(r.err().contains("device stutter@pio:0x1234"), r.err());
  }

  /**
   * A device that never answers, with a device timeout longer than --timeout: --timeout ends the
   * VM, even while the VMM itself waits for the device (route vmm). route=in-process does not
   * apply: a device in the VMM is toykvm's own code and always answers.
   */
  @ParameterizedTest
  @ValueSource(strings = {"ioregionfd", "vmm"})
  void theTimeoutEndsAVmWhoseDeviceNeverAnswers(String route, @TempDir Path dir)
      throws IOException {
    Path mute = script(dir, "mute", "exec sleep 600");
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--com1-route",
            "in-process",
            "--timeout",
            "1s",
            "--device-timeout",
            "10m",
            "--device",
            "exec=" + mute + ",pio=0x1234,size=8,route=" + route,
            "pio-testdev");
    assertEquals(ExitCodes.TIMEOUT, r.status(), r.err());
    assertTrue(r.err().contains("guest still running after 1000 ms (--timeout)"), r.err());
  }

  /**
   * The same guest access reaches the device as the same command (user_data too) by both routes.
   */
  @Test
  void bothRoutesSendTheSameCommands(@TempDir Path dir) throws IOException {
    List<List<String>> logs = new ArrayList<>();
    for (String route : new String[] {"ioregionfd", "vmm"}) {
      Path log = dir.resolve("commands-" + route);
      Path recorder =
          script(
              dir,
              "recorder-" + route,
              "while :; do\n"
                  + "  cmd=$(head -c 32 | od -An -tx1 -v | tr -d ' \\n')\n"
                  + "  [ -z \"$cmd\" ] && exit 0\n"
                  + "  echo \"$cmd\" >> "
                  + log
                  + "\n"
                  + "  head -c 32 /dev/zero\n"
                  + "done");
      MainTest.Result r =
          MainTest.toykvm(
              "run",
              "--com1-route",
              "in-process",
              "--device",
              "exec=" + recorder + ",pio=0x1234,size=8,route=" + route,
              "pio-testdev");
      assertTrue(r.status() != ExitCodes.DEVICE && r.status() < 64, r.err()); // reads 0: FAILs
      logs.add(Files.readAllLines(log));
    }
    assertTrue(logs.getFirst().size() > 10, "commands: " + logs.getFirst());
    // user_data (bytes 8..15) is 1: the device after COM1.
    assertEquals("0100000000000000", logs.getFirst().getFirst().substring(16, 32));
    assertEquals(logs.get(0), logs.get(1));
  }

  /** A device that forks a child which keeps running: its whole process group ends with the VM. */
  @ParameterizedTest
  @ValueSource(strings = {"exec sleep 1000", "cat >/dev/null"})
  void whatADeviceForkedDoesNotOutliveTheVm(String thenWhat, @TempDir Path dir) throws IOException {
    Path pidFile = dir.resolve("pid");
    Path forker = script(dir, "forker", "echo $$ > " + pidFile + "\nsleep 1000 &\n" + thenWhat);
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--com1-route",
            "in-process",
            "--device",
            "exec=" + forker + ",pio=0x2000,size=1",
            "hello");
    assertEquals(0, r.status(), r.err());
    int pgid = Integer.parseInt(Files.readString(pidFile).strip());
    await("no process of the device's group " + pgid + " is left")
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertEquals(List.of(), ProcessGroup.members(pgid)));
  }

  @Test
  void noDeviceProcessOrFdOutlivesTheVm() throws IOException {
    String[] run = {
      "run", "--device", "testdev,mmio=0xfeb00000,size=0x1000,route=vmm", "mmio-testdev"
    };
    // A first VM opens what the JVM keeps for good (jars, the shared-memory directory, ...).
    assertEquals(0, MainTest.toykvm(run).status());
    long fdsBefore = openFds();
    for (int i = 0; i < 3; i++) {
      MainTest.Result r =
          MainTest.toykvm(
              "run", "--device", "testdev,mmio=0xfeb00000,size=0x1000,route=vmm", "mmio-testdev");
      assertEquals(0, r.status(), r.err());
    }
    assertEquals(List.of(), ProcessHandle.current().children().toList());
    assertEquals(fdsBefore, openFds(), "open fds before and after three VMs");
  }

  @Test
  void devicesDieWithAVmmThatIsKilled(@TempDir Path dir) throws Exception {
    Path sleeper = script(dir, "sleeper", "exec sleep 600");
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElseThrow());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("-Dtoykvm.ioregionfd.timeout.ms=60000");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(List.of("run", "--device", "exec=" + sleeper + ",pio=0x1234,size=8", "pio-testdev"));
    Process vmm = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try {
      // Wait until the VMM has both device processes (the UART JVM and the sleeper).
      List<List<ProcessHandle>> devices = new ArrayList<>(List.of(List.of()));
      await("the VMM started the UART JVM and the sleeper")
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                devices.set(0, vmm.toHandle().descendants().toList());
                return devices.getFirst().size() >= 2
                    && devices.getFirst().stream()
                        .anyMatch(p -> p.info().command().orElse("").endsWith("sleep"));
              });
      vmm.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      for (ProcessHandle p : devices.getFirst()) {
        await("device process " + p.pid() + " dies with the VMM")
            .atMost(Duration.ofSeconds(10))
            .until(() -> !p.isAlive());
      }
    } finally {
      vmm.destroyForcibly();
    }
  }

  @Test
  void traceShowsTheRouteOfEachAccess() throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElseThrow());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(
        List.of(
            "run", "--trace", "--device", "testdev,pio=0x1234,size=8,route=vmm", "pio-testdev"));
    Process vmm = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.PIPE).start();
    String err = new String(vmm.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(vmm.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, vmm.exitValue(), err);
    // COM1 is reached over ioregionfd (a kernel tracepoint), the test device through the VMM.
    assertTrue(err.contains("ioregionfd pio write port=0x3f8 size=1 data 0x50"), err);
    assertTrue(err.contains("[vcpu0] IO out port=0x1234 size=1 data=0x44"), err);
  }

  private static long openFds() throws IOException {
    try (var s = Files.list(Path.of("/proc/self/fd"))) {
      return s.count();
    }
  }

  private static Path script(Path dir, String name, String body) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    return p;
  }
}
