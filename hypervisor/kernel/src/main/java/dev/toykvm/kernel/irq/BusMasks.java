package dev.toykvm.kernel.irq;

/** Masks for the low bytes of a bus access. */
final class BusMasks {
  private BusMasks() {}

  /** Ones in the low {@code size} bytes (all 64 bits for 8 or more). */
  static long low(int size) {
    return size >= 8 ? -1L : (1L << (8 * size)) - 1;
  }
}
