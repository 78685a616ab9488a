package dev.toykvm.devices.bus;

/**
 * A range of bus addresses {@code [base, base + length)}, with both numbers unsigned 64-bit.
 *
 * @param base the first address
 * @param length the number of addresses, never 0; the range never wraps past 2^64
 */
public record BusRange(long base, long length) {

  /**
   * @throws BusRangeException if {@code length} is 0 or the range runs past 2^64
   */
  public BusRange {
    if (length == 0) {
      throw new BusRangeException(
          "cannot use range at " + hex(base) + ": its length is 0 (a device must have an address)");
    }
    // last = base + length - 1 must not wrap around (unsigned).
    if (Long.compareUnsigned(base + (length - 1), base) < 0) {
      throw new BusRangeException(
          "cannot use range at "
              + hex(base)
              + " of length "
              + Long.toUnsignedString(length)
              + ": it runs past the end of the 64-bit address space");
    }
  }

  /** The last address in the range (inclusive). */
  public long last() {
    return base + (length - 1);
  }

  /** Whether {@code address} is in this range. */
  public boolean contains(long address) {
    return Long.compareUnsigned(address - base, length) < 0;
  }

  /** Whether the two ranges share an address. */
  public boolean overlaps(BusRange other) {
    return Long.compareUnsigned(base, other.last()) <= 0
        && Long.compareUnsigned(other.base, last()) <= 0;
  }

  @Override
  public String toString() {
    return "[" + hex(base) + ", " + hex(last()) + "]";
  }

  static String hex(long value) {
    return "0x" + Long.toHexString(value);
  }
}
