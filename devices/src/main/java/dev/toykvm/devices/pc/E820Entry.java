package dev.toykvm.devices.pc;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * One range of a PC's physical memory map as the BIOS call INT 15h, AX=E820h reports it, and as
 * QEMU's fw_cfg file {@code etc/e820} and Linux's {@code boot_params.e820_table} carry it: {u64
 * address, u64 length, u32 type}, little-endian, 20 bytes, no padding.
 *
 * @param address the first byte of the range
 * @param length bytes in the range, not zero
 * @param type {@link #RAM}, {@link #RESERVED}, {@link #ACPI}, {@link #NVS}, {@link #UNUSABLE} (the
 *     ACPI specification's address range types) or another value, passed on as is
 */
public record E820Entry(long address, long length, int type) {
  public static final int RAM = 1;
  public static final int RESERVED = 2;
  public static final int ACPI = 3;
  public static final int NVS = 4;
  public static final int UNUSABLE = 5;

  /** Bytes per entry. */
  public static final int SIZE = 20;

  /**
   * @throws IllegalArgumentException if the length is zero or the range runs past 2^64
   */
  public E820Entry {
    if (length == 0) {
      throw new IllegalArgumentException(
          "cannot describe e820 range at 0x%x: its length is zero".formatted(address));
    }
    if (Long.compareUnsigned(address + length - 1, address) < 0) {
      throw new IllegalArgumentException(
          "cannot describe e820 range at 0x%x of 0x%x bytes: it runs past 2^64"
              .formatted(address, length));
    }
  }

  /** The entries, one after another, in the given order: the content of {@code etc/e820}. */
  public static byte[] encode(List<E820Entry> entries) {
    ByteBuffer b = ByteBuffer.allocate(entries.size() * SIZE).order(ByteOrder.LITTLE_ENDIAN);
    for (E820Entry e : entries) {
      b.putLong(e.address).putLong(e.length).putInt(e.type);
    }
    return b.array();
  }
}
