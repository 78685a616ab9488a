package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.toykvm.devices.DebugExitPort;
import dev.toykvm.kvm.Kvm;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Debian's SeaBIOS (skipped without it) on a 5 GiB machine: it reads fw_cfg's {@code etc/e820}
 * (QEMU's way of telling it about RAM above 4 GiB) and its own e820 table, which it hands to every
 * boot loader, lists the 2 GiB from 4 GiB as RAM; its 32-bit PCI window starts where the RAM below
 * 4 GiB ends (3 GiB). The VM is stopped once the table is printed.
 */
@Tag("e2e")
@Timeout(120)
class SeaBiosHighMemoryTest {
  /** The debug console: stops the machine once SeaBIOS is past its e820 table. */
  private static final class Console extends OutputStream {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final AtomicReference<Machine> machine = new AtomicReference<>();

    @Override
    public synchronized void write(int b) {
      bytes.write(b);
      if (b == '\n' && text().contains("enter handle_19") && machine.get() != null) {
        machine.get().stop();
      }
    }

    synchronized String text() {
      return bytes.toString(StandardCharsets.US_ASCII);
    }
  }

  @Test
  void seabiosListsTheRamAbove4GiBInItsE820Table() throws Exception {
    assumeTrue(Files.isReadable(SeaBiosPciTest.SEABIOS), "seabios is not installed");
    Console console = new Console();
    MachineConfig config =
        new MachineConfig(
            5L << 30,
            false,
            Optional.of(Duration.ofSeconds(90)),
            List.of(),
            DeviceSpec.Route.IN_PROCESS);
    FirmwareBoot boot =
        new FirmwareBoot(
            new Firmware(
                SeaBiosPciTest.SEABIOS.toString(), Files.readAllBytes(SeaBiosPciTest.SEABIOS)),
            DebugExitPort.Mode.QEMU,
            console);
    try (Kvm kvm = Kvm.open();
        Machine m = Machine.firmware(kvm, config, boot, new ByteArrayOutputStream(), null)) {
      console.machine.set(m);
      m.run();
    }
    String out = console.text();
    assertTrue(
        out.contains("qemu/e820: addr 0x0000000100000000 len 0x0000000080000000 [RAM]"),
        "fw_cfg's etc/e820 as SeaBIOS read it: " + out);
    assertTrue(
        out.contains("qemu/e820: addr 0x0000000000100000 len 0x00000000bff00000 [RAM]"), out);
    assertTrue(out.contains("PCI: 32: 00000000c0000000 - "), "the PCI window from 3 GiB: " + out);
    assertTrue(out.contains(": 0000000100000000 - 0000000180000000 = 1 RAM"), out);
    assertTrue(out.contains(": 0000000000100000 - 00000000c0000000 = 1 RAM"), out);
  }
}
