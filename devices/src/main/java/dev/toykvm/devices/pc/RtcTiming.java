package dev.toykvm.devices.pc;

/**
 * The MC146818's periodic rates as arithmetic on nanoseconds since the epoch. The divider chain
 * counts a 32.768 kHz time base, aligned to the clock's seconds: a period of {@code p} ticks of it
 * ends at every multiple of {@code p} ticks.
 */
final class RtcTiming {
  private RtcTiming() {}

  static final long NANOS = 1_000_000_000L;
  static final long TIME_BASE_HZ = 32_768;

  /**
   * The period that register A's rate bits (0-3) select, in ticks of the time base: 0 for none, 128
   * (256 Hz) and 256 (128 Hz) for rates 1 and 2, {@code 1 << (rate - 1)} for 3 to 15 (8192 Hz to 2
   * Hz), as the datasheet's table for a 32.768 kHz time base.
   */
  static long periodTicks(int regA) {
    int rate = regA & 0x0f;
    return switch (rate) {
      case 0 -> 0;
      case 1 -> 128;
      case 2 -> 256;
      default -> 1L << (rate - 1);
    };
  }

  /** Ticks of the time base from the epoch to {@code nanos} (rounded down). */
  static long ticks(long nanos) {
    long s = Math.floorDiv(nanos, NANOS);
    long n = Math.floorMod(nanos, NANOS);
    return s * TIME_BASE_HZ + n * TIME_BASE_HZ / NANOS;
  }

  /** Whether a period of {@code periodTicks} ended in (from, to]. */
  static boolean periodsBetween(long from, long to, long periodTicks) {
    return Math.floorDiv(ticks(to), periodTicks) > Math.floorDiv(ticks(from), periodTicks);
  }

  /** The first time after {@code after} at which a period ends (rounded up to a nanosecond). */
  static long nextPeriodNanos(long after, long periodTicks) {
    long nextTick = (Math.floorDiv(ticks(after), periodTicks) + 1) * periodTicks;
    long s = Math.floorDiv(nextTick, TIME_BASE_HZ);
    long t = Math.floorMod(nextTick, TIME_BASE_HZ);
    return s * NANOS + (t * NANOS + TIME_BASE_HZ - 1) / TIME_BASE_HZ;
  }
}
