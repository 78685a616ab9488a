package dev.toykvm.vmm;

import java.util.Set;

/**
 * A firmware image as a PC maps it: the whole image read-only at the top of the 32-bit space (so
 * that its last 16 bytes hold the reset vector at 0xffff_fff0), and its last 128 KiB (the whole
 * image if it is smaller) read-only again just below 1 MiB, QEMU's "isa-bios" alias. Both the
 * bundled 64 KiB images ({@link GuestImage}) and {@code --bios} files are mapped this way.
 *
 * @param name the bundled name or the file's path, for messages
 * @param bytes the image: 64 KiB, 128 KiB or 256 KiB
 */
public record Firmware(String name, byte[] bytes) {

  /** The sizes toykvm maps: 64, 128 and 256 KiB (SeaBIOS's bios.bin and bios-256k.bin). */
  public static final Set<Integer> SIZES = Set.of(0x1_0000, 0x2_0000, 0x4_0000);

  /** The most of an image aliased below 1 MiB (QEMU's isa-bios: the BIOS area 0xe0000-0xfffff). */
  public static final int ALIAS_MAX = 0x2_0000;

  private static final long FOUR_GIB = 1L << 32;
  private static final long ONE_MIB = 1L << 20;

  /**
   * @throws ImageException ("cannot load firmware X: ...") if the size is not one of {@link #SIZES}
   */
  public Firmware {
    if (!SIZES.contains(bytes.length)) {
      throw ImageException.withMessage(
          "cannot load firmware "
              + name
              + ": it is "
              + bytes.length
              + " bytes; firmware must be 64 KiB, 128 KiB or 256 KiB (65536, 131072 or 262144"
              + " bytes)");
    }
  }

  /** The bundled 64 KiB image as firmware. */
  static Firmware of(GuestImage image) {
    return new Firmware(image.name(), image.rom());
  }

  public int size() {
    return bytes.length;
  }

  /** Where the image starts below 4 GiB: it ends at 0xffff_ffff. */
  public long highBase() {
    return FOUR_GIB - bytes.length;
  }

  /** Bytes of the image aliased below 1 MiB: its last 128 KiB, or all of it. */
  public int aliasSize() {
    return Math.min(bytes.length, ALIAS_MAX);
  }

  /** Where the alias starts: it ends at 0x10_0000. */
  public long aliasBase() {
    return ONE_MIB - aliasSize();
  }

  /** The alias's offset in the image. */
  public int aliasOffset() {
    return bytes.length - aliasSize();
  }
}
