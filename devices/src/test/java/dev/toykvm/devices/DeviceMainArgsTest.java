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
  void nvmeTakesItsOwnOptionsAsTheLauncherWritesThem() {
    DeviceMain main =
        DeviceMain.parsePlain(
            new String[] {
              "nvme",
              "--disk",
              "/tmp/d.img",
              "--disk-size",
              "1048576",
              "--queues",
              "1",
              "--guest-ram",
              "3:0x0:0xa0000:0x0",
              "--pci-state",
              "4",
              "--irqfd",
              "24:5",
              "--irqfd",
              "25:6",
              "--intx",
              "11:7:8"
            },
            LOG);

    assertEquals("/tmp/d.img", main.disk);
    assertEquals(1048576L, main.diskSize);
    assertEquals(1, main.queues);
    assertEquals("3:0x0:0xa0000:0x0", main.guestRam);
    assertEquals(4, main.pciState);
    assertEquals(java.util.List.of("24:5", "25:6"), main.irqfds);
    assertEquals("11:7:8", main.intx);
    assertNull(
        DeviceMain.parsePlain(new String[] {"nvme", "--queues", "x"}, LOG), "left to picocli");
    assertNull(DeviceMain.parsePlain(new String[] {"nvme", "--disk", "a", "--disk", "b"}, LOG));
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
