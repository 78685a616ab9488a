package dev.toykvm.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.toykvm.images.TestDisks;
import dev.toykvm.images.TestKernels;
import dev.toykvm.vmm.ExitCodes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The NVMe controller through the command line, end to end: SeaBIOS boots from it, {@code nvmetest}
 * on four vCPUs with a queue and an MSI-X vector each, every error status, what is on the disk
 * after the VM is SIGKILLed, a device process killed under a running guest, and disks that cannot
 * be used. (The vmm module's {@code NvmeKernelTest} runs the pattern on every route and interrupt
 * mode.)
 */
@Tag("e2e")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class NvmeEndToEndTest {
  static final Path SEABIOS = Path.of("/usr/share/seabios/bios-256k.bin");

  @TempDir Path dir;

  private Path nvmetest() throws IOException {
    return TestKernels.extract("nvmetest", dir);
  }

  // ---- SeaBIOS ----

  @ParameterizedTest
  @ValueSource(strings = {"ioregionfd", "vmm"})
  void seabiosBootsFromTheNvmeDisk(String route) throws IOException {
    assumeTrue(Files.isReadable(SEABIOS), "seabios is not installed");
    Path disk = TestDisks.extract("nvmeboot", dir);
    Path debugcon = dir.resolve("debugcon.txt");
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--timeout",
            "120s",
            "--debugcon",
            debugcon.toString(),
            "--bios",
            SEABIOS.toString(),
            "--device",
            "nvme,disk=" + disk + ",route=" + route);
    assertEquals(
        List.of(
            "nvmeboot: loaded by the BIOS",
            "nvmeboot: read 64+63 sectors with INT 13h AH=42h",
            "nvmeboot: PASS"),
        r.out().lines().map(String::strip).filter(l -> l.startsWith("nvmeboot")).toList(),
        r.out() + r.err());
    assertEquals(1, r.status(), "QEMU's isa-debug-exit status for 0: " + r.err());
    String console = Files.readString(debugcon);
    assertTrue(console.contains("PCI: init bdf=00:03.0 id=1b36:0010"), console);
    assertTrue(console.contains("Booting from Hard Disk..."), console);
  }

  // ---- nvmetest ----

  private static final Pattern QUEUE =
      Pattern.compile(
          "nvmetest: queue (\\d+): (\\d+) commands by the CPU of APIC ID (\\d+), (\\d+) MSI-X"
              + " interrupts to it");

  /** 340 writes, the flush (on queue 1) and 340 reads. */
  private static final int PATTERN_COMMANDS = 681;

  @Test
  void fourCpusEachDriveTheirOwnQueueWithTheirOwnMsixVector() throws IOException {
    Path disk = dir.resolve("smp.img");
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--timeout",
            "120s",
            "--cpus",
            "4",
            "--kernel",
            nvmetest().toString(),
            "--append",
            "irq=msix queues=4 cpus",
            "--device",
            "nvme,disk=" + disk + ",size=4M,queues=4");
    assertEquals(1, r.status(), r.out() + r.err());
    List<String> lines = r.out().lines().map(String::strip).toList();
    assertTrue(lines.contains("nvmetest: 4 CPU(s) running"), r.out());
    assertTrue(lines.contains("nvmetest: cpus: 4 CPU(s) each own a queue pair"), r.out());
    assertTrue(lines.contains("nvmetest: namespace 1: 8192 blocks of 512 bytes (4 MiB)"), r.out());
    Set<Integer> queues = new TreeSet<>();
    Set<Integer> cpus = new TreeSet<>();
    int commands = 0;
    for (String l : lines) {
      Matcher m = QUEUE.matcher(l);
      if (!m.matches()) {
        continue;
      }
      int n = Integer.parseInt(m.group(2));
      assertTrue(n > 0, "queue got commands: " + l);
      assertTrue(Integer.parseInt(m.group(4)) >= n, "an interrupt per completion: " + l);
      queues.add(Integer.parseInt(m.group(1)));
      cpus.add(Integer.parseInt(m.group(3)));
      commands += n;
    }
    assertEquals(Set.of(1, 2, 3, 4), queues, r.out());
    assertEquals(Set.of(0, 1, 2, 3), cpus, "each queue its own CPU: " + r.out());
    assertEquals(PATTERN_COMMANDS, commands, r.out());
    assertEquals("nvmetest: PASS", lines.getLast(), r.out());
    assertEquals(4L << 20, Files.size(disk), "created at size=4M");
  }

  @ParameterizedTest
  @ValueSource(strings = {"poll", "intx"})
  void everyMalformedCommandGetsItsStatus(String irq) throws IOException {
    Path disk = dir.resolve("errors.img");
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--timeout",
            "120s",
            "--kernel",
            nvmetest().toString(),
            "--append",
            "irq=" + irq + " queues=1 check=errors",
            "--device",
            "nvme,disk=" + disk + ",size=1M,queues=4,route=ioregionfd");
    assertEquals(1, r.status(), r.out() + r.err());
    List<String> lines = r.out().lines().map(String::strip).toList();
    assertTrue(
        lines.contains("nvmetest: queues: asked for 1, granted 4, created 1 pair(s) of 64 entries"),
        r.out());
    List<String> checks =
        lines.stream().filter(l -> l.startsWith("ok ") || l.startsWith("FAIL ")).toList();
    assertEquals(16, checks.size(), r.out());
    assertTrue(checks.stream().allMatch(l -> l.startsWith("ok ")), r.out());
    assertEquals("nvmetest: PASS", lines.getLast(), r.out());
  }

  // ---- durability ----

  /** Dword {@code word} of block {@code lba} as nvmetest writes it ({@code pattern()}). */
  static int pattern(int lba, int word) {
    return lba * 0x9e3779b1 ^ word * 0x85ebca6b ^ 0x4e564d45;
  }

  /**
   * nvmetest's 340 transfers cover LBAs 0-2047 (256 x 1 block, 64 x 8 from 256, 20 x 64 from 768).
   */
  static final int PATTERN_BLOCKS = 2048;

  /** Whether the disk holds exactly nvmetest's pattern in LBAs 0-2047; the first mismatch. */
  static void assertPattern(Path disk) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(disk)).order(ByteOrder.LITTLE_ENDIAN);
    for (int lba = 0; lba < PATTERN_BLOCKS; lba++) {
      for (int w = 0; w < 128; w++) {
        int got = b.getInt(lba * 512 + w * 4);
        if (got != pattern(lba, w)) {
          throw new AssertionError(
              "LBA %d word %d: 0x%08x, want 0x%08x".formatted(lba, w, got, pattern(lba, w)));
        }
      }
    }
  }

  @Test
  void whatTheGuestFlushedIsOnTheDiskAfterTheVmmIsKilled() throws Exception {
    // A disk made beforehand, with a mark past the pattern: it must be reused, not recreated.
    Path disk = dir.resolve("durable.img");
    byte[] initial = new byte[4 << 20];
    byte[] mark = "toykvm: not truncated".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    int markAt = initial.length - 512;
    System.arraycopy(mark, 0, initial, markAt, mark.length);
    Files.write(disk, initial);
    Object inode = Files.readAttributes(disk, BasicFileAttributes.class).fileKey();

    List<ProcessHandle> devices;
    try (VmmProcess vmm =
        VmmProcess.start(
            "run",
            "--timeout",
            "120s",
            "--kernel",
            nvmetest().toString(),
            "--append",
            "irq=poll queues=4",
            "--device",
            "nvme,disk=" + disk + ",size=4M")) {
      await("nvmetest flushed its pattern")
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(5)) // its read-back phase takes about a second
          .until(() -> vmm.printed("nvmetest: flush: done") || !vmm.process.isAlive());
      devices = vmm.devices();
      assertTrue(vmm.device("nvme") != null, "the nvme device process runs: " + vmm);
      vmm.process.destroyForcibly(); // SIGKILL: no clean exit, no close of anything
      int status = vmm.waitFor(30);
      assertEquals(137, status, "killed by SIGKILL, not ended: " + vmm);
      assertFalse(vmm.printed("nvmetest: PASS"), "killed before the end: " + vmm);
    }
    for (ProcessHandle p : devices) {
      await("device process " + p.pid() + " dies with the VMM (PDEATHSIG)")
          .atMost(Duration.ofSeconds(30))
          .until(() -> !p.isAlive());
    }
    assertEquals(4L << 20, Files.size(disk));
    assertPattern(disk);
    byte[] after = Files.readAllBytes(disk);
    assertEquals(
        new String(mark, java.nio.charset.StandardCharsets.US_ASCII),
        new String(after, markAt, mark.length, java.nio.charset.StandardCharsets.US_ASCII),
        "the mark past the pattern survives");
    for (int i = PATTERN_BLOCKS * 512; i < markAt; i++) {
      assertEquals(0, after[i], "byte " + i + " past the pattern is untouched");
    }

    // A second run on the same file, without size=: the file's own size, the same file.
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--timeout",
            "120s",
            "--kernel",
            nvmetest().toString(),
            "--device",
            "nvme,disk=" + disk + ",route=in-process");
    assertEquals(1, r.status(), r.out() + r.err());
    assertTrue(
        r.out().contains("nvmetest: namespace 1: 8192 blocks of 512 bytes (4 MiB)"), r.out());
    assertEquals(inode, Files.readAttributes(disk, BasicFileAttributes.class).fileKey());
    assertEquals(4L << 20, Files.size(disk));
    assertPattern(disk);
    assertEquals(
        new String(mark, java.nio.charset.StandardCharsets.US_ASCII),
        new String(
            Files.readAllBytes(disk),
            markAt,
            mark.length,
            java.nio.charset.StandardCharsets.US_ASCII));
  }

  // ---- a device process that dies ----

  @ParameterizedTest
  @ValueSource(strings = {"ioregionfd", "vmm"})
  void aKilledDeviceProcessEndsTheVmWithTheDeviceNamed(String route) throws Exception {
    Path disk = dir.resolve("victim.img");
    try (VmmProcess vmm =
        VmmProcess.start(
            "run",
            "--timeout",
            "120s",
            "--kernel",
            nvmetest().toString(),
            "--append",
            // Reads for as long as it takes: the guest is inside its I/O loop when the device dies.
            "irq=poll queues=1 bench count=2000000",
            "--device",
            "nvme,disk=" + disk + ",size=1M,queues=1,route=" + route)) {
      await("nvmetest started its reads")
          .atMost(Duration.ofSeconds(90))
          .until(
              () ->
                  vmm.out.stream().anyMatch(l -> l.startsWith("nvmetest: queues:"))
                      || !vmm.process.isAlive());
      ProcessHandle device = vmm.device("nvme");
      assertTrue(device != null && vmm.process.isAlive(), "the VM runs the nvme device: " + vmm);
      List<ProcessHandle> others = vmm.devices();
      device.destroyForcibly();
      int status = vmm.waitFor(60); // never a hang: the guest's own wait is 7.5 s per command
      assertEquals(ExitCodes.DEVICE, status, vmm.toString());
      String err = String.join("\n", vmm.err);
      assertTrue(err.contains("a device process failed"), err);
      // An access names the guest address (BAR0 at 0xe0000000 on --kernel), not only its offset.
      assertFalse(err.contains("address 0x1"), err);
      assertTrue(err.contains("device nvme@victim.img (pid " + device.pid() + ")"), err);
      assertFalse(vmm.out.stream().anyMatch(l -> l.contains("FAIL")), vmm.toString());
      for (ProcessHandle p : others) {
        await("device " + p.pid() + " ends with the VM")
            .atMost(Duration.ofSeconds(30))
            .until(() -> !p.isAlive());
      }
    }
  }

  /**
   * A device process that dies while the guest never touches it (echo sleeps in {@code hlt} for
   * COM1's interrupt): no access ever fails, so only the VMM watching its children can end the VM;
   * it did not, and the VM ran on without its disk until {@code --timeout}.
   */
  @Test
  void aDeviceThatDiesWhileTheGuestSleepsEndsTheVm() throws Exception {
    Path disk = dir.resolve("idle.img");
    try (VmmProcess vmm =
        VmmProcess.start(
            "run",
            "--timeout",
            "120s",
            "--kernel",
            TestKernels.extract("echo", dir).toString(),
            "--device",
            "nvme,disk=" + disk + ",size=64k")) {
      await("echo waits for input")
          .atMost(Duration.ofSeconds(90))
          .until(
              () ->
                  vmm.out.stream().anyMatch(l -> l.startsWith("echo: interrupt-driven"))
                      || !vmm.process.isAlive());
      ProcessHandle device = vmm.device("nvme");
      assertTrue(device != null && vmm.process.isAlive(), vmm.toString());
      device.destroyForcibly();
      assertEquals(ExitCodes.DEVICE, vmm.waitFor(60), vmm.toString());
      String err = String.join("\n", vmm.err);
      assertTrue(
          err.contains(
              "a device process failed: it was killed by signal 9 while the VM ran; device"
                  + " nvme@idle.img (pid "
                  + device.pid()
                  + ")"),
          err);
    }
  }

  // ---- disks that cannot be used ----

  private MainTest.Result runWithDisk(String nvmeKeys) throws IOException {
    return MainTest.toykvm(
        "run",
        "--timeout",
        "60s",
        "--kernel",
        nvmetest().toString(),
        "--device",
        "nvme," + nvmeKeys);
  }

  /** One line on stderr, naming the disk once with the reason; status 71; no child left. */
  private void assertOneLine(MainTest.Result r, Path disk, String why) {
    assertEquals(ExitCodes.DEVICE, r.status(), r.err());
    assertEquals(1, r.err().lines().count(), r.err());
    String said = "cannot open NVMe disk " + disk + ": " + why;
    assertTrue(r.err().contains(said), r.err());
    assertEquals(
        r.err().indexOf("cannot open NVMe disk"),
        r.err().lastIndexOf("cannot open NVMe disk"),
        r.err());
    assertEquals("", r.out());
    assertEquals(
        List.of(), ProcessHandle.current().children().filter(ProcessHandle::isAlive).toList());
  }

  @ParameterizedTest
  @ValueSource(strings = {"ioregionfd", "in-process"})
  void aDirectoryIsNotADisk(String route) throws IOException {
    Path d = Files.createDirectory(dir.resolve("adir"));
    assertOneLine(runWithDisk("disk=" + d + ",route=" + route), d, "it is a directory");
    try (var s = Files.list(d)) {
      assertEquals(0, s.count(), "nothing made in it");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"ioregionfd", "in-process"}) // vmm starts its process as ioregionfd does
  void aSizeThatDoesNotMatchTheFileIsRefusedAndTheFileKept(String route) throws IOException {
    Path f = dir.resolve("small.img");
    byte[] content = new byte[1 << 20];
    content[12345] = 42;
    Files.write(f, content);
    assertOneLine(
        runWithDisk("disk=" + f + ",size=2M,route=" + route),
        f,
        "it is 1048576 bytes, not the 2097152 bytes asked for");
    assertTrue(java.util.Arrays.equals(content, Files.readAllBytes(f)), "the file is untouched");
  }

  @ParameterizedTest
  @ValueSource(strings = {"ioregionfd", "in-process"})
  void aDiskThatCannotBeCreatedIsRefused(String route) throws IOException {
    // sysfs refuses new files to everyone, root included.
    Path f = Path.of("/sys/toykvm-nvme-test.img");
    assumeTrue(Files.isDirectory(f.getParent()), "no /sys");
    assertOneLine(runWithDisk("disk=" + f + ",route=" + route), f, "permission denied creating it");
    assertFalse(Files.exists(f));
  }

  @Test
  void aPathThroughAFileNamesTheDiskOnce() throws IOException {
    Path plain = Files.write(dir.resolve("plain"), new byte[512]);
    Path f = plain.resolve("d.img");
    assertOneLine(runWithDisk("disk=" + f + ",route=in-process"), f, "Not a directory");
  }

  @Test
  void aBadSizeIsAUsageError() throws IOException {
    Path f = dir.resolve("never.img");
    MainTest.Result r = runWithDisk("disk=" + f + ",size=4T");
    assertEquals(ExitCodes.USAGE, r.status(), r.err());
    assertTrue(r.err().contains("size=4T is not a size"), r.err());
    assertFalse(Files.exists(f));
  }
}
