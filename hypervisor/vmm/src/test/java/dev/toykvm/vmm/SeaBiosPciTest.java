package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.time.Duration;
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

  @Test
  void seabiosGetsPastTheBridgeShadowsItselfAndTriesToBoot() throws Exception {
    assumeTrue(Files.isReadable(SeaBiosDebugLog.SEABIOS), "seabios is not installed");
    String out =
        SeaBiosDebugLog.boot(128L << 20, Duration.ofSeconds(60), "Booting from Hard Disk...");
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
