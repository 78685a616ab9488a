package dev.toykvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.PrintStream;
import org.junit.jupiter.api.Test;

/** {@link DeviceMain#parsePlain}: the launchers' command lines without picocli, nothing else. */
class DeviceMainArgsTest {
  private static final PrintStream LOG = System.err;

  @Test
  void deviceAlone() {
    DeviceMain main = DeviceMain.parsePlain(new String[] {"testdev"}, LOG);

    assertEquals("testdev", main.device);
    assertNull(main.output);
  }

  @Test
  void deviceWithOutput() {
    DeviceMain main = DeviceMain.parsePlain(new String[] {"uart", "--output", "/dev/fd/3"}, LOG);

    assertEquals("uart", main.device);
    assertEquals("/dev/fd/3", main.output);
  }

  @Test
  void everythingElseIsLeftToPicocli() {
    for (String[] args :
        new String[][] {
          {},
          {"--help"},
          {"-V"},
          {"uart", "--output"},
          {"uart", "--output=/tmp/x"},
          {"uart", "--output", "-x"},
          {"uart", "--bogus", "x"},
          {"--output", "x", "uart"},
          {"uart", "--output", "x", "extra"},
          {"uart", "testdev"}
        }) {
      assertNull(DeviceMain.parsePlain(args, LOG), String.join(" ", args));
    }
  }
}
