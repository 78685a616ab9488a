package dev.toykvm.vmm;

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
}
