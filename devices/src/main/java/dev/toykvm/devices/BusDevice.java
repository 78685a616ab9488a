package dev.toykvm.devices;

/**
 * A device as a bus sees it: reads and writes at an offset from the start of the device's range.
 *
 * <p>The same interface serves port I/O and MMIO, so a device class works on either bus, in the
 * VMM, in a test, or in its own process behind the ioregionfd server. A device never sees the bus
 * address it was mapped at.
 *
 * <p>What the guest does wrong is never an exception here: a device answers an access it does not
 * understand as its hardware would (usually all-ones for a read, nothing for a write) and counts
 * it.
 */
public interface BusDevice {

  /**
   * Reads {@code size} bytes at {@code offset}.
   *
   * @param offset from the start of the device's range; the access may run past the end of the
   *     range if the guest made it so, and the device answers that too
   * @param size 1, 2, 4 or 8
   * @return the value, little-endian, in the low {@code size} bytes
   */
  long read(long offset, int size);

  /**
   * Writes the low {@code size} bytes of {@code value} at {@code offset}.
   *
   * @param offset from the start of the device's range (see {@link #read})
   * @param size 1, 2, 4 or 8
   * @param value the data, little-endian, in the low {@code size} bytes
   */
  void write(long offset, int size, long value);

  /** All-ones in the low {@code size} bytes: what a read from nothing returns on x86. */
  static long allOnes(int size) {
    return size >= 8 ? -1L : (1L << (size * 8)) - 1;
  }
}
