package dev.toykvm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.images.TestFirmware;
import dev.toykvm.vmm.ExitCodes;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Starts firmware with {@code toykvm run --bios}, in-process, on the real kernel side: the
 * repository's fwtest images, and every way a firmware file can be refused.
 */
@Tag("e2e")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FirmwareEndToEndTest {
  @TempDir Path dir;

  /** What fwtest prints, on QEMU too (guest-firmware/README.md has the QEMU command). */
  static List<String> fwtestOutput(int kib, int ramMib) {
    List<String> lines = new java.util.ArrayList<>(fwtestLines(kib, ramMib));
    if (ramMib > 3072) { // the rest above 4 GiB (toykvm's split; QEMU's from 3.5 GiB)
      lines.set(
          lines.indexOf("ok   CMOS 0x5b-0x5d: nothing above 4 GiB"),
          "ok   CMOS 0x5b-0x5d: 64 KiB units above 4 GiB, as etc/e820 says");
    }
    return lines;
  }

  private static List<String> fwtestLines(int kib, int ramMib) {
    return List.of(
        "fwtest: firmware test, " + kib + " KiB",
        "ok   debug console reads back 0xe9",
        "ok   the alias below 1 MiB matches the top copy",
        "ok   reset vector at 0xffff0 too",
        "ok   a write to the top copy is ignored",
        "ok   a write to the alias is ignored",
        "ok   fw_cfg signature QEMU",
        "fw_cfg ram: " + ramMib + " MiB",
        "ok   CMOS 0x30/0x31: KiB above 1 MiB (at most 0xffff)",
        "ok   CMOS 0x34/0x35: 64 KiB units above 16 MiB",
        "ok   CMOS 0x5b-0x5d: nothing above 4 GiB",
        "cmos ram: " + ramMib + " MiB",
        "ok   CMOS RAM size agrees with fw_cfg",
        "ok   RTC register D: valid RAM and time",
        "ok   RTC update-ended flag after a second",
        "ok   reading register C clears its update and alarm flags",
        "fwtest: PASS");
  }

  @ParameterizedTest
  @CsvSource({
    "fwtest-128k, 128, 128M, 128",
    "fwtest-256k, 256, 12M, 12",
    "fwtest-256k, 256, 5G, 5120"
  })
  void fwtestPassesOnTheFirmwareMachine(String name, int kib, String memory, int ramMib)
      throws IOException {
    Path firmware = TestFirmware.extract(name, dir);
    Path debugcon = dir.resolve("debugcon.txt");
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--timeout",
            "60s",
            "--memory",
            memory,
            "--debugcon",
            debugcon.toString(),
            "--bios",
            firmware.toString());
    assertEquals(fwtestOutput(kib, ramMib), Files.readAllLines(debugcon), "stderr: " + r.err());
    assertEquals(1, r.status(), "QEMU's isa-debug-exit status for 0: " + r.err());
    assertEquals("", r.out());
  }

  /** Without --debugcon the debug console goes to stderr. */
  @Test
  void theDebugConsoleGoesToStderrByDefault() throws IOException {
    Path firmware = TestFirmware.extract("fwtest-128k", dir);
    MainTest.Result r = MainTest.toykvm("run", "--timeout", "60s", "--bios", firmware.toString());
    assertEquals(1, r.status(), r.err());
    assertTrue(r.err().contains("fwtest: PASS\n"), r.err());
  }

  private void assertFirmwareError(String file, String message) {
    MainTest.Result r = MainTest.toykvm("run", "--bios", file);
    assertEquals(ExitCodes.IMAGE, r.status(), r.err());
    assertEquals("toykvm: " + message + "\n", r.err());
    assertEquals("", r.out());
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 4096, 65535, 65537, 0x18000, 0x30000, 0x3ffff})
  void aFileOfAnotherSizeIsRefused(int size) throws IOException {
    Path f = dir.resolve("bad.bin");
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
      raf.setLength(size);
    }
    assertFirmwareError(
        f.toString(),
        "cannot load firmware "
            + f
            + ": it is "
            + size
            + " bytes; firmware must be 64 KiB, 128 KiB or 256 KiB (65536, 131072 or 262144"
            + " bytes)");
  }

  @Test
  void aFileLargerThan256KibIsRefusedUnread() throws IOException {
    Path f = dir.resolve("huge.bin");
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
      raf.setLength(1L << 30);
    }
    assertFirmwareError(
        f.toString(),
        "cannot load firmware " + f + ": larger than 262144 bytes (the file has 1073741824)");
  }

  @Test
  void anEmptyFileIsRefused() throws IOException {
    Path f = Files.createFile(dir.resolve("empty.bin"));
    assertFirmwareError(f.toString(), "cannot load firmware " + f + ": the file is empty");
  }

  @Test
  void aMissingFileIsRefused() {
    Path f = dir.resolve("nothing.bin");
    assertFirmwareError(f.toString(), "cannot load firmware " + f + ": no such file");
  }

  @Test
  void aDirectoryIsRefused() {
    assertFirmwareError(
        dir.toString(), "cannot load firmware " + dir + ": not a regular file (it is a directory)");
  }

  @Test
  void devZeroIsRefusedUnread() {
    assertFirmwareError(
        "/dev/zero", "cannot load firmware /dev/zero: not a regular file (a character device)");
  }

  @Test
  void biosDoesNotGoWithKernelOrImage() throws IOException {
    Path firmware = TestFirmware.extract("fwtest-128k", dir);
    List<List<String>> cases = new ArrayList<>();
    cases.add(List.of("run", "--bios", firmware.toString(), "--kernel", firmware.toString()));
    cases.add(List.of("run", "--bios", firmware.toString(), "hello"));
    List<String> why =
        List.of(
            "toykvm: --bios does not go with --kernel: toykvm boots a kernel directly, without"
                + " firmware",
            "toykvm: --bios does not go with IMAGE: give one or the other");
    for (int i = 0; i < cases.size(); i++) {
      MainTest.Result r = MainTest.toykvm(cases.get(i).toArray(String[]::new));
      assertEquals(ExitCodes.USAGE, r.status(), r.err());
      assertEquals(why.get(i) + "\n", r.err());
    }
  }
}
