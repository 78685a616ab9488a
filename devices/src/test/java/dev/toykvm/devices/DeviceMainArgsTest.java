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
  void inputAndIrqfds() {
    DeviceMain main =
        DeviceMain.parsePlain(
            new String[] {
              "uart", "--output", "/dev/fd/3", "--input", "4", "--irqfd", "4:5:6", "--irqfd", "9:7"
            },
            LOG);

    assertEquals("/dev/fd/3", main.output);
    assertEquals(4, main.input);
    assertEquals(java.util.List.of("4:5:6", "9:7"), main.irqfds);
    assertEquals(new IrqfdLines.Irqfd(4, 5, 6), DeviceMain.parseIrqfd("4:5:6"));
    assertEquals(new IrqfdLines.Irqfd(9, 7, -1), DeviceMain.parseIrqfd("9:7"));
  }

  @Test
  void badIrqfdsAreRefused() {
    for (String bad : new String[] {"4", "4:x", "4:5:6:7", ":5", "-1:5"}) {
      org.junit.jupiter.api.Assertions.assertThrows(
          IllegalArgumentException.class, () -> DeviceMain.parseIrqfd(bad), bad);
    }
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
          {"uart", "testdev"},
          {"uart", "--input", "x"},
          {"uart", "--input", "3", "--input", "4"},
          {"uart", "--output", "a", "--output", "b"}
        }) {
      assertNull(DeviceMain.parsePlain(args, LOG), String.join(" ", args));
    }
  }
}
