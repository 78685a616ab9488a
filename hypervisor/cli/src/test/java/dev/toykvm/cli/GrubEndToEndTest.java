package dev.toykvm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.toykvm.images.TestKernels;
import dev.toykvm.vmm.ExitCodes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A boot chain of three outside programs, none changed: Debian's SeaBIOS boots from the NVMe disk
 * (the controller in its own process, over ioregionfd), loads Debian's GRUB 2 from it (boot.img and
 * a core.img that grub-mkimage makes from Debian's modules), GRUB reads its grub.cfg from the
 * disk's FAT partition through SeaBIOS's INT 13h, and boots Debian's memtest86+ from the same
 * partition with the Linux boot protocol; memtest runs its tests on both vCPUs, which it finds in
 * the ACPI MADT SeaBIOS installed. The disk is made by {@code scripts/grub-disk}. Skipped where a
 * package is missing ({@code ./build test} installs them).
 */
@Tag("e2e")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class GrubEndToEndTest {
  private static final Path BIOS = Path.of("/usr/share/seabios/bios-256k.bin");
  private static final Path MEMTEST = Path.of("/boot/memtest86+x64.bin");

  @Test
  void seaBiosBootsGrubFromTheNvmeDiskAndGrubBootsMemtest(@TempDir Path dir)
      throws IOException, InterruptedException {
    assumeTrue(Files.isReadable(BIOS), "seabios is not installed");
    assumeTrue(Files.isReadable(MEMTEST), "memtest86+ is not installed");
    assumeTrue(
        Files.isReadable(Path.of("/usr/lib/grub/i386-pc/boot.img")),
        "grub-pc-bin is not installed");
    Path disk =
        grubDisk(
            dir, false, MEMTEST.toString(), "console=ttyS0,115200 nopause nobench nobigstatus");
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--bios",
            BIOS.toString(),
            "--memory",
            "16M",
            "--cpus",
            "2",
            "--device",
            "nvme,disk=" + disk,
            "--timeout",
            "30s");
    assertEquals(ExitCodes.TIMEOUT, r.status(), "memtest never stops by itself: " + r.err());
    assertTrue(r.err().contains("Booting from Hard Disk"), "SeaBIOS's debug console: " + r.err());
    assertTrue(
        r.out().contains("grub-disk: grub.cfg read from (hd0,msdos1)"),
        "GRUB read its configuration from the NVMe disk: " + r.out());
    assertTrue(r.out().contains("Booting `kernel'"), r.out());
    String screen = Vt100Screen.of(r.out()).toString();
    assertTrue(screen.contains("Memtest86+ v"), screen);
    assertTrue(screen.contains("toykvm vCPU (Unicorn TCG)"), "the CPU it found: " + screen);
    assertTrue(MemtestEndToEndTest.lastTest(screen) >= 0, "memtest is testing:\n" + screen);
    // Both vCPUs, found in the ACPI MADT that SeaBIOS installed from fw_cfg's table-loader (an MP
    // table alone, SeaBIOS's, leaves memtest at "SMP: Disabled", on QEMU too).
    assertTrue(screen.contains("SMP: 2T (PAR)"), "memtest uses both vCPUs:\n" + screen);
    MemtestEndToEndTest.assertNoErrors(screen);
  }

  /**
   * The in-repository NVMe driver as a Multiboot kernel that GRUB loads from the disk: it finds the
   * controller where SeaBIOS put its BARs, resets it, and writes, reads back and verifies 1 MiB
   * (over the disk it was booted from: the disk is a scratch copy).
   */
  @Test
  void grubBootsTheNvmeDriverAsAMultibootKernel(@TempDir Path dir)
      throws IOException, InterruptedException {
    assumeTrue(Files.isReadable(BIOS), "seabios is not installed");
    assumeTrue(
        Files.isReadable(Path.of("/usr/lib/grub/i386-pc/boot.img")),
        "grub-pc-bin is not installed");
    Path kernel = TestKernels.extract("nvmetest", dir);
    Path disk = grubDisk(dir, true, kernel.toString(), "irq=msix");
    MainTest.Result r =
        MainTest.toykvm(
            "run", "--bios", BIOS.toString(), "--device", "nvme,disk=" + disk, "--timeout", "60s");
    assertTrue(r.out().contains("Booting `kernel'"), r.out());
    assertTrue(r.out().contains("nvmetest: PASS"), r.out() + r.err());
    assertEquals(1, r.status(), "QEMU's isa-debug-exit: (0 << 1) | 1; " + r.err());
  }

  /** Runs {@code scripts/grub-disk} (with {@code --multiboot} if asked) into {@code dir}. */
  private static Path grubDisk(Path dir, boolean multiboot, String kernel, String args)
      throws IOException, InterruptedException {
    Path disk = dir.resolve("grub.img");
    java.util.List<String> command = new java.util.ArrayList<>();
    command.add(script().toString());
    if (multiboot) {
      command.add("--multiboot");
    }
    command.addAll(java.util.List.of(disk.toString(), kernel, args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String made = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int status = p.waitFor();
    assumeTrue(status != 69, "a tool is missing: " + made);
    assertEquals(0, status, made);
    return disk;
  }

  @Test
  void theScriptSaysHowToUseIt() throws IOException, InterruptedException {
    Process p = new ProcessBuilder(script().toString()).redirectErrorStream(true).start();
    String usage = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(64, p.waitFor(), usage);
    assertTrue(usage.contains("scripts/grub-disk [--multiboot] OUT.img [KERNEL [ARGS...]]"), usage);
  }

  /** {@code scripts/grub-disk}, found from the module's directory up. */
  private static Path script() {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path s = d.resolve("scripts/grub-disk");
      if (Files.isExecutable(s)) {
        return s;
      }
    }
    throw new IllegalStateException(
        "scripts/grub-disk not found above " + Path.of("").toAbsolutePath());
  }
}
