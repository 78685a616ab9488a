package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

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
    List<String> argv = DeviceLauncher.argv(DeviceSpec.parse("uart,pio=0x3f8"), true);

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

    List<String> argv = DeviceLauncher.argv(DeviceSpec.parse("testdev,pio=0x1234"), false);

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
        DeviceLauncher.argv(DeviceSpec.parse("exec=/bin/true,pio=0x1234,size=8"), false);

    assertEquals(List.of("setpriv", "--pdeathsig", "KILL", "--", "/bin/true"), argv);
  }
}
