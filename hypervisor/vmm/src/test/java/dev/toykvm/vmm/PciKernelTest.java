package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.devices.DebugExitPort;
import dev.toykvm.images.TestKernels;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.vmm.pci.Bar;
import dev.toykvm.vmm.pci.PciDevice;
import dev.toykvm.vmm.pci.PciId;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Boots the {@code pcitest} kernel on the real kernel side: it enumerates bus 0 through
 * 0xcf8/0xcfc, checks the i440FX and the PIIX3, mechanism #1's corner cases and the PAM modes, and
 * sizes the BARs of a pci-testdev put on the bus with QEMU's geometry ({@code -device pci-testdev}:
 * BAR0 4 KiB of memory, BAR1 256 ports). The same kernel prints the same check lines on QEMU
 * (guest-firmware/README.md).
 */
@Tag("e2e")
@Timeout(120)
class PciKernelTest {
  @TempDir Path dir;

  static final List<String> EXPECTED =
      List.of(
          "pcitest: PCI bus 0",
          "ok   multiboot magic",
          "ok   CONFIG_ADDRESS reads back",
          "00:00.0 8086:1237 class 060000 rev 02",
          "00:01.0 8086:7000 class 060100 rev 00 multi-function",
          "00:03.0 1b36:0005 class 00ff00 rev 00",
          "ok   00:00.0 is the i440FX host bridge (8086:1237, class 0600)",
          "ok   host bridge subsystem 1af4:1100 (QEMU's)",
          "ok   00:01.0 is the PIIX3 ISA bridge (8086:7000, class 0601), multi-function",
          "ok   byte and word reads at 0xcfc-0xcff agree with the dword",
          "ok   an absent function reads all-ones",
          "ok   bus 1 reads all-ones",
          "ok   without the enable bit, data reads all-ones",
          "ok   PIIX3 PIRQ route registers 0x60-0x63 read/write",
          "ok   PAM4 is writable",
          "ok   PAM mode 3: RAM, read and written",
          "ok   PAM mode 1: RAM read-only, the write dropped",
          "ok   PAM mode 0: reads do not come from RAM",
          "ok   PAM mode 0: the write did not reach RAM",
          "PAM mode 2 reads: not RAM (as the datasheet)",
          "ok   PAM mode 2: the write reached RAM",
          "pci-testdev BAR0 mem32 0x00001000",
          "pci-testdev BAR1 io 0x00000100",
          "ok   pci-testdev: sizing left the command register",
          "all checks passed");

  @Test
  void pcitestEnumeratesTheBusAndSizesATestDevice() throws Exception {
    Path kernel = TestKernels.extract("pcitest", dir);
    long memory = 128L << 20;
    MachineConfig config =
        new MachineConfig(
            memory,
            false,
            Optional.of(Duration.ofSeconds(60)),
            List.of(DeviceSpec.parse("pc-testdev,pio=0xe0,route=in-process")),
            DeviceSpec.Route.IN_PROCESS);
    ByteArrayOutputStream serial = new ByteArrayOutputStream();
    KernelBoot boot =
        KernelFiles.load(
            kernel, "", null, memory, DebugExitPort.Mode.QEMU, new ByteArrayOutputStream());
    try (Kvm kvm = Kvm.open();
        Machine m = Machine.boot(kvm, config, boot, serial, null)) {
      PciDevice testdev =
          new PciDevice(
              "pci-testdev",
              new PciId(0x1b36, 0x0005, 0, 0x00ff00, PciId.QEMU_SUBSYSTEM_VENDOR, 0x1100),
              false,
              new Bar[] {Bar.memory32(0x1000), Bar.io(0x100)},
              0);
      m.chipset().bus().add(3, 0, testdev);
      VmOutcome outcome = m.run();
      String out = serial.toString(StandardCharsets.US_ASCII).replace("\r", "");
      assertEquals(EXPECTED, out.lines().toList(), out);
      assertEquals(new VmOutcome.GuestExited(1), outcome);
    }
  }
}
