package dev.toykvm.vmm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a {@code --bios} file: a regular file of 64 KiB, 128 KiB or 256 KiB ({@link Firmware}),
 * checked from its metadata before it is read ({@link ImageFile}), as QEMU refuses a BIOS file of
 * another size before it starts.
 */
public final class FirmwareFile {
  private FirmwareFile() {}

  /** The largest firmware image. */
  static final int MAX_SIZE = 0x4_0000;

  /**
   * @throws ImageException "cannot load firmware X: why": no such file, not a regular file, empty,
   *     larger than 256 KiB, not one of the three sizes, unreadable
   */
  public static Firmware load(Path file) {
    String shown = file.toString();
    ImageFile.check("firmware", shown, file, MAX_SIZE);
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw ImageException.of("firmware", shown, "cannot read it: " + e.getMessage());
    }
    return new Firmware(shown, bytes);
  }
}
