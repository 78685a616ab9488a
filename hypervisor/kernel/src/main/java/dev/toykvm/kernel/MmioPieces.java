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
