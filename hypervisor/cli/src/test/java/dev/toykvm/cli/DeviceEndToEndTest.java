package dev.toykvm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.images.TestImage;
import dev.toykvm.vmm.ExitCodes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
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
    assertTrue(r.err().contains("KVM_EXIT_IOREGIONFD_FAILURE, EIO"), r.err());
    assertTrue(r.err().contains("device quitter@pio:0x1234"), r.err());
    assertTrue(r.err().contains("quitter: giving up"), r.err());
  }

  @Test
  void deviceThatNeverAnswersTimesOut(@TempDir Path dir) throws IOException {
    Path mute = script(dir, "mute", "exec sleep 600"); // keeps its pipes open, reads nothing
    String before = System.getProperty("toykvm.ioregionfd.timeout.ms");
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--device-timeout",
            "300ms",
            "--device",
            "exec=" + mute + ",pio=0x1234,size=8",
            "pio-testdev");
    assertEquals(ExitCodes.DEVICE, r.status(), r.err());
    assertTrue(r.err().contains("EAGAIN"), r.err());
    assertTrue(r.err().contains("waited 300 ms for the response"), r.err());
    assertEquals(before, System.getProperty("toykvm.ioregionfd.timeout.ms"), "restored");
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
      List<ProcessHandle> devices = List.of();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() < deadline) {
        devices = vmm.toHandle().descendants().toList();
        if (devices.stream().anyMatch(p -> p.info().command().orElse("").endsWith("sleep"))
            && devices.size() >= 2) {
          break;
        }
        Thread.sleep(50);
      }
      assertTrue(devices.size() >= 2, "device processes: " + devices);
      vmm.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (devices.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < until) {
        Thread.sleep(20);
      }
      for (ProcessHandle p : devices) {
        assertFalse(p.isAlive(), "device process outlived the VMM: " + p.info());
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
