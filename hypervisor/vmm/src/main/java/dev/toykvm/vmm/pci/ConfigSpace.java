package dev.toykvm.vmm.pci;

/**
 * The 256 bytes of one function's configuration space, with what the guest may change: each bit is
 * read-only, writable, or write-1-to-clear (the status register's error bits). The device side sets
 * values with {@link #set8}, {@link #set16}, {@link #set32} (no masks); the guest's accesses go
 * through {@link #read} and {@link #write}, which apply them, byte by byte, as PCI's byte enables
 * do. Little-endian. Not thread-safe: its {@link PciDevice} serialises access.
 */
public final class ConfigSpace {
  /** Bytes of a conventional PCI function's configuration space. */
  public static final int SIZE = 256;

  private final byte[] bytes = new byte[SIZE];
  private final byte[] writable = new byte[SIZE];
  private final byte[] clearOnOne = new byte[SIZE];

  /** Reads {@code size} (1, 2 or 4) bytes at {@code offset}, as the guest sees them. */
  public int read(int offset, int size) {
    int v = 0;
    for (int i = size - 1; i >= 0; i--) {
      v = v << 8 | (bytes[offset + i] & 0xff);
    }
    return v;
  }

  /**
   * The guest writes the low {@code size} bytes of {@code value} at {@code offset}: writable bits
   * take the new value, write-1-to-clear bits written as 1 become 0, the rest stay.
   */
  public void write(int offset, int size, int value) {
    for (int i = 0; i < size; i++) {
      int at = offset + i;
      int b = value >>> (8 * i) & 0xff;
      int w = writable[at] & 0xff;
      int old = bytes[at] & 0xff;
      int next = (old & ~w | b & w) & ~(b & clearOnOne[at] & 0xff);
      bytes[at] = (byte) next;
    }
  }

  public int get8(int offset) {
    return bytes[offset] & 0xff;
  }

  public int get16(int offset) {
    return read(offset, 2);
  }

  public int get32(int offset) {
    return read(offset, 4);
  }

  public void set8(int offset, int value) {
    bytes[offset] = (byte) value;
  }

  public void set16(int offset, int value) {
    set(offset, 2, value, bytes);
  }

  public void set32(int offset, int value) {
    set(offset, 4, value, bytes);
  }

  /** Which bits of the {@code size} bytes at {@code offset} the guest may write. */
  public void setWritable(int offset, int size, int mask) {
    set(offset, size, mask, writable);
  }

  /** Makes every bit of {@code length} bytes from {@code offset} writable. */
  public void setWritableRange(int offset, int length) {
    for (int i = 0; i < length; i++) {
      writable[offset + i] = (byte) 0xff;
    }
  }

  /** Which bits of the {@code size} bytes at {@code offset} a write of 1 clears. */
  public void setClearOnOne(int offset, int size, int mask) {
    set(offset, size, mask, clearOnOne);
  }

  private static void set(int offset, int size, int value, byte[] into) {
    for (int i = 0; i < size; i++) {
      into[offset + i] = (byte) (value >>> (8 * i));
    }
  }
}
