package dev.toykvm.kernel;

/**
 * Keeps an MMIO access whole. Unicorn announces an access to its memory hook first, whole (an
 * 8-byte access with its full value), then hands the MMIO callbacks pieces: an 8-byte access as two
 * 4-byte ones, an unaligned access as the two aligned accesses that cover it, each of which it also
 * announces to the memory hook again. KVM presents one access, so the kernel side serves the whole
 * access once and the pieces from it.
 */
final class MmioPieces {
  private boolean active;
  private long address;
  private int size;
  private long value;
  private int pieceHooksLeft;
  private long spanStart;
  private long spanEnd;

  /** Serves one whole access (the kernel side's routing); returns a read's value. */
  interface Access {
    long access(boolean write, long address, int size, long data);
  }

  /**
   * The memory hook announced an access: serves it whole through {@code access}, unless it is a
   * piece of the one already served.
   */
  void announced(boolean write, long address, int size, long value, Access access) {
    if (isPieceOrBegin(address, size)) {
      return;
    }
    long v = mask(value, size);
    if (write) {
      setValue(v);
    }
    long read = access.access(write, address, size, v);
    if (!write) {
      setValue(mask(read, size));
    }
  }

  /** An MMIO read callback: a piece of the whole access, or an access of its own. */
  long read(long address, int size, Access access) {
    if (covers(address, size)) {
      return pieceValue(address, size);
    }
    // The memory hook did not announce this access: serve it on its own.
    return mask(access.access(false, address, size, 0), size);
  }

  /** An MMIO write callback: a piece of the whole access (done), or an access of its own. */
  void write(long address, int size, long value, Access access) {
    if (!covers(address, size)) {
      access.access(true, address, size, mask(value, size));
    }
  }

  private static long mask(long value, int size) {
    return size >= 8 ? value : value & ((1L << (8 * size)) - 1);
  }

  /** Forgets the last access (at each entry to the guest). */
  void reset() {
    active = false;
    pieceHooksLeft = 0;
  }

  /**
   * Whether a memory-hook call is a piece of the access already served (so it must be ignored);
   * otherwise starts a new whole access at {@code address}.
   */
  boolean isPieceOrBegin(long address, int size) {
    if (pieceHooksLeft > 0 && covers(address, size)) {
      pieceHooksLeft--;
      return true;
    }
    boolean unaligned = (address & (size - 1)) != 0;
    pieceHooksLeft = unaligned ? 2 : 0;
    spanStart = unaligned ? address & -size : address;
    spanEnd = unaligned ? spanStart + 2L * size : address + size;
    this.address = address;
    this.size = size;
    this.value = 0;
    this.active = true;
    return false;
  }

  /** The whole access's value: what was written, or (once known) what was read. */
  void setValue(long value) {
    this.value = value;
  }

  /** Whether an MMIO callback's access is one of the pieces of the whole access. */
  boolean covers(long address, int size) {
    return active && address >= spanStart && address + size <= spanEnd;
  }

  /** A read piece's value: the bytes of the whole access it overlaps, zero elsewhere. */
  long pieceValue(long pieceAddress, int pieceSize) {
    long result = 0;
    for (int i = 0; i < pieceSize; i++) {
      long at = pieceAddress + i - address;
      if (at >= 0 && at < size) {
        result |= ((value >>> (8 * at)) & 0xff) << (8 * i);
      }
    }
    return result;
  }
}
