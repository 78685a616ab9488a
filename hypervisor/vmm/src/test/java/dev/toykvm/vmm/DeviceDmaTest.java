package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.devices.GuestRam;
import dev.toykvm.ioregionfd.DeviceProcess;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Pipe;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Guest RAM handed to a device process: the fds and arguments a PCI function gets, and a real
 * process writing guest RAM through them that the VMM then sees.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DeviceDmaTest {
  private static final long MIB2 = 2L << 20;

  @Test
  void aPciFunctionGetsGuestRamItsStatePipeAndItsIrqfdsInThatOrder() {
    DeviceSpec spec = DeviceSpec.parse("nvme,disk=/tmp/d.img,size=0x100000,queues=1");
    DeviceIrqfds irqfds = DeviceIrqfds.forPci(List.of(24, 25), 11);
    try {
      DeviceLauncher.FdPlan plan =
          DeviceLauncher.FdPlan.of(
              spec,
              -1,
              -1,
              new DeviceLauncher.PciStart(100, MachineRam.dmaLayout(MIB2), List.of(24, 25), 11),
              101,
              irqfds);
      var v = irqfds.vectors();
      var intx = irqfds.intx();
      assertEquals(
          List.of(100, 101, v.get(0).fd(), v.get(1).fd(), intx.fd(), intx.resampleFd()),
          plan.fds());
      assertEquals(
          List.of(
              "--disk",
              "/tmp/d.img",
              "--disk-size",
              "1048576",
              "--queues",
              "1",
              "--guest-ram",
              "3:0x0:0xa0000:0x0+0x100000:0x100000:0x100000",
              "--pci-state",
              "4",
              "--irqfd",
              "24:5",
              "--irqfd",
              "25:6",
              "--intx",
              "11:7:8"),
          plan.args());
    } finally {
      irqfds.close();
    }
  }

  private static List<String> probe(String guestRam, String address, String text) {
    List<String> argv = new ArrayList<>();
    argv.add(ProcessHandle.current().info().command().orElseThrow());
    argv.add("--enable-native-access=ALL-UNNAMED");
    argv.add("-Xshare:auto");
    argv.add("-cp");
    argv.add(System.getProperty("java.class.path"));
    argv.add(DmaProbeMain.class.getName());
    argv.addAll(List.of("--guest-ram", guestRam, address, text));
    return argv;
  }

  @Test
  void aDeviceProcessWritesGuestRamAndTheVmmSeesIt() throws Exception {
    try (GuestMemoryFile ram = GuestMemoryFile.create("ram", MIB2)) {
      String arg = "3:" + GuestRam.formatLayout(MachineRam.dmaLayout(MIB2));
      try (DeviceProcess p =
          DeviceProcess.start(probe(arg, "0x100ff0", "written by a device"), l -> {}, ram.fd())) {
        assertEquals(0, p.waitFor(Duration.ofSeconds(30)).orElseThrow().exitCode(), p.stderr());
      }
      byte[] got = ram.segment().asSlice(0x100ff0, 19).toArray(ValueLayout.JAVA_BYTE);
      assertEquals("written by a device", new String(got, StandardCharsets.US_ASCII));

      // The PC hole is not RAM: the device's write is refused and nothing lands there.
      try (DeviceProcess p =
          DeviceProcess.start(probe(arg, "0x9fffc", "straddles"), l -> {}, ram.fd())) {
        assertEquals(3, p.waitFor(Duration.ofSeconds(30)).orElseThrow().exitCode(), p.stderr());
      }
      assertEquals(0, ram.segment().get(ValueLayout.JAVA_BYTE, 0x9fffc));
      assertEquals(0, ram.segment().get(ValueLayout.JAVA_BYTE, 0xa0000));
    }
  }

  @Test
  void aDeviceWithoutTheFdSaysSoAndEnds() {
    try (Pipe unrelated = Fds.pipe2();
        DeviceProcess p =
            DeviceProcess.start(
                probe("3:0x0:0x1000:0x0", "0x10", "x"), l -> {}, unrelated.readFd())) {
      assertEquals(1, p.waitFor(Duration.ofSeconds(30)).orElseThrow().exitCode());
      assertTrue(p.awaitStderrEof(Duration.ofSeconds(5)).contains("cannot map guest RAM"));
    }
  }
}
