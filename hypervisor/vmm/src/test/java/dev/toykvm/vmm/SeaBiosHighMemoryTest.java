package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.time.Duration;
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
  @Test
  void seabiosListsTheRamAbove4GiBInItsE820Table() throws Exception {
    assumeTrue(Files.isReadable(SeaBiosDebugLog.SEABIOS), "seabios is not installed");
    String out = SeaBiosDebugLog.boot(5L << 30, Duration.ofSeconds(90), "enter handle_19");
    assertTrue(
        out.contains("qemu/e820: addr 0x0000000100000000 len 0x0000000080000000 [RAM]"),
        "fw_cfg's etc/e820 as SeaBIOS read it: " + out);
    assertTrue(
        out.contains("qemu/e820: addr 0x0000000000100000 len 0x00000000bff00000 [RAM]"), out);
    assertTrue(out.contains("PCI: 32: 00000000c0000000 - "), "the PCI window from 3 GiB: " + out);
    assertTrue(out.contains(": 0000000100000000 - 0000000180000000 = 1 RAM"), out);
    // The last page below 3 GiB holds the ACPI tables SeaBIOS installed from fw_cfg's
    // table-loader (etc/acpi/tables, its "high" zone): reserved, as with QEMU's tables.
    assertTrue(out.contains(": 0000000000100000 - 00000000bffff000 = 1 RAM"), out);
    assertTrue(out.contains(": 00000000bffff000 - 00000000c0000000 = 2 RESERVED"), out);
  }
}
