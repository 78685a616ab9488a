package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.ioregionfd.DeviceProcess;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class DeviceLauncherTest {
  private static final String OPTIONS = "toykvm.device.jvm.options";

  @AfterEach
  void clear() {
    System.clearProperty(OPTIONS);
  }

  /** The JVM options of a device JVM's argv: everything between the java binary and -cp. */
  private static List<String> jvmOptions(List<String> argv) {
    return argv.subList(1, argv.indexOf("-cp"));
  }

  @Test
  void deviceJvmHasOnlyItsOwnOptionsByDefault() {
    List<String> argv =
        DeviceLauncher.argv(DeviceSpec.parse("uart,pio=0x3f8"), List.of("--output", "/dev/fd/3"));

    assertEquals(
        List.of("--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-Xmx64m"),
        jvmOptions(argv));
    assertEquals(
        List.of("dev.toykvm.devices.DeviceMain", "uart", "--output", "/dev/fd/3"),
        argv.subList(argv.indexOf("-cp") + 2, argv.size()));
  }

  @Test
  void extraOptionsGoBeforeTheClasspathSplitAtWhitespace() {
    System.setProperty(OPTIONS, "  -XX:AOTCache=/x/device.aot \t -Xlog:aot*=off  ");

    List<String> argv = DeviceLauncher.argv(DeviceSpec.parse("testdev,pio=0x1234"), List.of());

    assertEquals(
        List.of(
            "--enable-native-access=ALL-UNNAMED",
            "-XX:+UseSerialGC",
            "-Xmx64m",
            "-XX:AOTCache=/x/device.aot",
            "-Xlog:aot*=off"),
        jvmOptions(argv));
    assertEquals(System.getProperty("java.class.path"), argv.get(argv.indexOf("-cp") + 1));
  }

  @Test
  void execDevicesGetNoJvmOptions() {
    System.setProperty(OPTIONS, "-XX:AOTCache=/x/device.aot");

    List<String> argv =
        DeviceLauncher.argv(DeviceSpec.parse("exec=/bin/true,pio=0x1234,size=8"), List.of());

    assertEquals(List.of("setpriv", "--pdeathsig", "KILL", "--", "/bin/true"), argv);
  }

  @Test
  @Timeout(value = 20, unit = TimeUnit.SECONDS) // the ready wait itself is 60 s
  void aDeviceThatDiesBeforeServingIsSaidAtOnceWithItsStderr() {
    DeviceSpec spec = DeviceSpec.parse("testdev,pio=0x1234,size=8,name=doomed");
    DeviceProcess process =
        DeviceProcess.start(List.of("sh", "-c", "echo 'no such option' >&2; exit 3"));
    try {
      var started = new DeviceLauncher.Started(process, null, new CountDownLatch(1), null, -1);
      DeviceException e =
          assertThrows(DeviceException.class, () -> DeviceLauncher.awaitReady(spec, started));
      assertTrue(e.getMessage().startsWith("device doomed ended ("), e.getMessage());
      assertTrue(e.getMessage().contains("no such option"), e.getMessage());
    } finally {
      process.close();
    }
  }
}
