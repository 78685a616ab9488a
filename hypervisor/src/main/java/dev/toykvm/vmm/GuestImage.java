package dev.toykvm.vmm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A firmware image to boot: exactly {@link MachineLayout#ROM_SIZE} bytes, mapped at the top of the
 * 32-bit space with the reset vector in its last 16 bytes.
 *
 * @param name the bundled name or the file's path, for messages
 * @param description one line, may be empty
 * @param rom the image, exactly 64 KiB
 */
public record GuestImage(String name, String description, byte[] rom) {

  /**
   * @throws ImageException if {@code rom} is not exactly 64 KiB
   */
  public GuestImage {
    if (rom.length != MachineLayout.ROM_SIZE) {
      throw new ImageException(
          name,
          "it is "
              + rom.length
              + " bytes; a ROM image must be exactly "
              + MachineLayout.ROM_SIZE
              + " bytes (64 KiB)");
    }
  }

  /**
   * Reads a raw ROM image ({@code .bin}) from a file.
   *
   * @throws ImageException if the file is missing, unreadable or not 64 KiB
   */
  public static GuestImage fromFile(Path path) {
    String name = path.toString();
    if (Files.isDirectory(path)) {
      throw new ImageException(name, "it is a directory");
    }
    try {
      long size = Files.size(path);
      if (size != MachineLayout.ROM_SIZE) {
        throw new ImageException(
            name,
            "it is "
                + size
                + " bytes; a ROM image must be exactly "
                + MachineLayout.ROM_SIZE
                + " bytes (64 KiB)");
      }
      return new GuestImage(name, "", Files.readAllBytes(path));
    } catch (NoSuchFileException e) {
      throw new ImageException(name, "no such file");
    } catch (IOException e) {
      throw new ImageException(name, e.getMessage() == null ? e.toString() : e.getMessage());
    }
  }
}
