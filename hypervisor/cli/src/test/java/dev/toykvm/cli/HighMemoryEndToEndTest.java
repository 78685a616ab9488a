package dev.toykvm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.images.TestKernels;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * RAM above 4 GiB end to end: the highmem kernel on machines of 5 GiB, 5000 MiB (not a whole number
 * of GiB), 3 GiB + 4 KiB (one page above 4 GiB) and 3 GiB (none). Each prints exactly what it
 * prints on QEMU ({@code qemu-system-x86_64 -m SIZE -kernel highmem.elf}, guest-firmware/README.md)
 * but for 3 GiB + 4 KiB, which QEMU keeps below 4 GiB. The guest file is sparse: these machines
 * touch a few pages of their RAM.
 */
class HighMemoryEndToEndTest {
  @TempDir Path dir;

  private static List<String> withHighRam(long mib, int places) {
    List<String> lines = new ArrayList<>();
    lines.add("highmem: RAM above 4 GiB");
    lines.add("ok   multiboot magic 0x2BADB002 in EAX");
    lines.add("RAM above 4 GiB: " + mib + " MiB at 0x0000000100000000, reached in 64-bit mode");
    lines.add("ok   fw_cfg RAM size: 3 GiB below 4 GiB plus the RAM above");
    lines.add("ok   CMOS 0x5b-0x5d: the RAM above 4 GiB in 64 KiB units");
    lines.add("ok   CMOS 0x34-0x35: the RAM from 16 MiB to 3 GiB in 64 KiB units");
    lines.add("ok   mem_upper: the RAM below the hole only");
    lines.add("ok   the PCI hole is not RAM");
    lines.add("ok   the first address past the RAM above 4 GiB is not RAM");
    lines.add("patterns written at " + places + " places");
    lines.add("ok   every pattern reads back (first page, each GiB, last page)");
    lines.add("ok   the last byte of RAM is RAM");
    lines.add(
        mib == 0
            ? "ok   4 GiB + x is not x (too little RAM above 4 GiB to try)"
            : "ok   4 GiB + x is not x");
    lines.add("highmem: PASS");
    return lines;
  }

  @ParameterizedTest(name = "--memory {0}")
  @CsvSource({"5G, 2048, 3", "5000M, 1928, 3", "3145732K, 0, 1"})
  void theGuestFindsAndUsesTheRamAbove4GiB(String memory, long mib, int places) throws IOException {
    Path kernel = TestKernels.extract("highmem", dir);
    MainTest.Result r =
        MainTest.toykvm(
            "run", "--timeout", "60s", "--memory", memory, "--kernel", kernel.toString());
    assertEquals(withHighRam(mib, places), r.out().lines().toList(), "stderr: " + r.err());
    assertEquals(1, r.status(), "QEMU's isa-debug-exit: (0 << 1) | 1; stderr: " + r.err());
  }

  @Test
  void with3GiBThereIsNoRamAbove4GiB() throws IOException {
    Path kernel = TestKernels.extract("highmem", dir);
    MainTest.Result r =
        MainTest.toykvm("run", "--timeout", "60s", "--memory", "3G", "--kernel", kernel.toString());
    assertEquals(
        List.of(
            "highmem: RAM above 4 GiB",
            "ok   multiboot magic 0x2BADB002 in EAX",
            "RAM above 4 GiB: none",
            "ok   CMOS 0x5b-0x5d: no RAM above 4 GiB",
            "ok   fw_cfg RAM size: all of it below 4 GiB",
            "ok   nothing is RAM at 3.5 GiB",
            "highmem: PASS"),
        r.out().lines().toList(),
        "stderr: " + r.err());
    assertEquals(1, r.status(), "stderr: " + r.err());
  }

  @Test
  void noDeviceGoesOverTheRamAbove4GiB() throws IOException {
    Path kernel = TestKernels.extract("highmem", dir);
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--timeout",
            "60s",
            "--memory",
            "5G",
            "--kernel",
            kernel.toString(),
            "--device",
            "testdev,mmio=0x17ffff000,size=0x2000");
    assertEquals(
        "toykvm: cannot place device testdev@0x17ffff000: it overlaps RAM above 4 GiB"
            + " (0x100000000..0x17fffffff)\n",
        r.err());
    assertEquals(dev.toykvm.vmm.ExitCodes.DEVICE, r.status());
  }

  /**
   * nvmetest's {@code buf=high}: every data buffer of the pattern above 4 GiB, so the NVMe device
   * process (and, on {@code route=in-process}, the VMM's model) does its DMA there. The guest
   * poisons each buffer above 4 GiB before a read and checks what the controller put there, and the
   * disk must hold the pattern the controller read from there.
   */
  @ParameterizedTest(name = "route={0}")
  @CsvSource({"ioregionfd", "in-process"})
  void theNvmeControllerDoesItsDmaAbove4GiB(String route) throws IOException {
    Path disk = dir.resolve("high-" + route + ".img");
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--timeout",
            "120s",
            "--memory",
            "5G",
            "--kernel",
            TestKernels.extract("nvmetest", dir).toString(),
            "--append",
            "irq=msix queues=2 buf=high",
            "--device",
            "nvme,disk=" + disk + ",size=4M,queues=2,route=" + route);
    List<String> lines = r.out().lines().map(String::strip).toList();
    assertEquals(1, r.status(), r.out() + r.err());
    assertEquals(
        true,
        lines.contains("nvmetest: data buffers above 4 GiB, from 0x100000000"),
        r.out() + r.err());
    assertEquals(
        true, lines.contains("nvmetest: read: 2048 blocks read back and verified"), r.out());
    assertEquals("nvmetest: PASS", lines.getLast(), r.out());
    NvmeEndToEndTest.assertPattern(disk);
  }

  @Test
  void nvmetestSaysWhenThereIsNoRamAbove4GiBForItsBuffers() throws IOException {
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--timeout",
            "120s",
            "--kernel",
            TestKernels.extract("nvmetest", dir).toString(),
            "--append",
            "buf=high",
            "--device",
            "nvme,disk=" + dir.resolve("none.img") + ",size=4M");
    assertEquals(3, r.status(), r.out() + r.err());
    assertEquals(
        "nvmetest: FAIL: buf=high: no RAM at 4 GiB in the memory map",
        r.out().lines().map(String::strip).toList().getLast(),
        r.out());
  }
}
