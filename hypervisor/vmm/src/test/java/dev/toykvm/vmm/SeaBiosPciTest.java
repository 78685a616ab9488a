package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.toykvm.devices.DebugExitPort;
import dev.toykvm.kvm.Kvm;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Debian's SeaBIOS ({@code apt-get install seabios}; skipped without it) finds the i440FX, shadows
 * itself through the PAM registers, enumerates and initialises bus 0, turns on its VGA text console
 * through its 16-bit {@code int $0x10; lret} trampoline (a real-mode retf, which libunicorn alone
 * gets wrong: ARCHITECTURE.md, "The real-mode retf"), and goes on to its boot menu; the VM is
 * stopped once it tries the hard disk (there is none: README "PCI").
 */
@Tag("e2e")
@Timeout(120)
class SeaBiosPciTest {
  static final Path SEABIOS = Path.of("/usr/share/seabios/bios-256k.bin");

  /** The debug console: stops the machine once SeaBIOS prints {@code marker}. */
  private static final class Console extends OutputStream {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final AtomicReference<Machine> machine = new AtomicReference<>();

    @Override
    public synchronized void write(int b) {
      bytes.write(b);
      if (b == '\n' && text().contains("Booting from Hard Disk...") && machine.get() != null) {
        machine.get().stop();
      }
    }

    synchronized String text() {
      return bytes.toString(StandardCharsets.US_ASCII);
    }
  }

  @Test
  void seabiosGetsPastTheBridgeShadowsItselfAndTriesToBoot() throws Exception {
    assumeTrue(Files.isReadable(SEABIOS), "seabios is not installed");
    Console console = new Console();
    MachineConfig config =
        new MachineConfig(
            128L << 20,
            false,
            Optional.of(Duration.ofSeconds(60)),
            List.of(),
            DeviceSpec.Route.IN_PROCESS);
    FirmwareBoot boot =
        new FirmwareBoot(
            new Firmware(SEABIOS.toString(), Files.readAllBytes(SEABIOS)),
            DebugExitPort.Mode.QEMU,
            console);
    try (Kvm kvm = Kvm.open();
        Machine m = Machine.firmware(kvm, config, boot, new ByteArrayOutputStream(), null)) {
      console.machine.set(m);
      m.run();
    }
    String out = console.text();
    assertTrue(!out.contains("Unable to unlock ram"), out);
    assertTrue(out.contains("Running on QEMU (i440fx)"), out);
    assertTrue(out.contains("Relocating init from"), "shadowed and relocated: " + out);
    assertTrue(out.contains("Found 2 PCI devices (max PCI bus is 00)"), out);
    assertTrue(out.contains("PCI: init bdf=00:00.0 id=8086:1237"), out);
    assertTrue(out.contains("PCI: init bdf=00:01.0 id=8086:7000"), out);
    assertTrue(out.contains("Scan for VGA option rom"), out);
    // Past the first far return from its 16-bit trampoline: on to the boot devices.
    assertTrue(out.contains("Turning on vga text mode console"), out);
    assertTrue(out.contains("SeaBIOS (version"), out);
    assertTrue(out.contains("All threads complete."), out);
    assertTrue(out.contains("e820 map has"), out);
    assertTrue(out.contains("Booting from Floppy..."), out);
    assertTrue(out.contains("Booting from Hard Disk..."), out);
  }
}
