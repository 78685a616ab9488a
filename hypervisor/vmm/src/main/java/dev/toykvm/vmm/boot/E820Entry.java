package dev.toykvm.vmm.boot;

/**
 * One range of the PC's memory map as the BIOS's INT 15h, E820h reports it (and as Linux's {@code
 * boot_params}, multiboot's memory map and QEMU's {@code etc/e820} carry it).
 *
 * @param base first byte
 * @param length bytes
 * @param type {@link #RAM}, {@link #RESERVED}, ...
 */
public record E820Entry(long base, long length, int type) {
  /** Usable RAM. */
  public static final int RAM = 1;

  /** Not usable (ROMs, holes, device windows). */
  public static final int RESERVED = 2;

  /** ACPI tables, reclaimable after they are read. */
  public static final int ACPI = 3;

  public E820Entry {
    if (length <= 0) {
      throw new IllegalArgumentException("an e820 range needs a positive length, not " + length);
    }
  }

  /** The first byte after the range. */
  public long end() {
    return base + length;
  }
}
