package dev.toykvm.images;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The boot disks built from {@code guest-firmware/disks}: raw disk images a PC BIOS boots (given to
 * the VMM as a disk file, e.g. {@code --device nvme,disk=FILE} under {@code --bios}). {@code
 * nvmeboot} (512 KiB) has a boot sector at LBA 0 that prints "nvmeboot: loaded by the BIOS" on
 * COM1, reads LBAs 1-127 with INT 13h AH=42h, checks their pattern ({@link #nvmebootPattern}),
 * prints "nvmeboot: PASS" and writes 0 to port 0xf4 (QEMU's isa-debug-exit: status 1); a failure
 * prints "nvmeboot: FAIL: ..." and writes 1.
 */
public final class TestDisks {
  private TestDisks() {}

  /** The disks there are. */
  public static final List<String> NAMES = List.of("nvmeboot");

  /** The sectors of {@code nvmeboot} that hold the pattern: LBAs 1 to 127. */
  public static final int NVMEBOOT_PATTERN_SECTORS = 127;

  /** The file name of disk {@code name}: NAME.img. */
  public static String fileName(String name) {
    return name + ".img";
  }

  /**
   * Dword {@code word} (0-127) of sector {@code lba} (1-127) of {@code nvmeboot}, as the build
   * writes it and the boot sector checks it (little-endian on disk).
   */
  public static int nvmebootPattern(int lba, int word) {
    return lba * 0x9e3779b1 ^ word * 0x85ebca6b ^ 0x544f4f42;
  }

  /**
   * The bytes of disk {@code name}.
   *
   * @throws IllegalArgumentException if there is no such disk
   */
  public static byte[] load(String name) {
    try (InputStream in =
        TestDisks.class.getClassLoader().getResourceAsStream("disks/" + fileName(name))) {
      if (in == null || !NAMES.contains(name)) {
        throw new IllegalArgumentException("no test disk named " + name + "; known: " + NAMES);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read test disk " + name, e);
    }
  }

  /**
   * Writes a fresh copy of disk {@code name} to {@code dir} and returns the file (a guest may write
   * to its disk: give it a copy).
   */
  public static Path extract(String name, Path dir) throws IOException {
    Path file = dir.resolve(fileName(name));
    Files.write(file, load(name));
    return file;
  }
}
