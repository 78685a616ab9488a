package dev.toykvm.kernel.irq;

import java.util.function.LongSupplier;

/** The 8254's 1.193182 MHz input clock, counted on a nanosecond clock from a base time. */
final class PitClock {
  static final long FREQUENCY_HZ = 1_193_182;
  private static final long NS_PER_S = 1_000_000_000L;

  private final LongSupplier nanoTime;
  private final long base;

  PitClock(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
    this.base = nanoTime.getAsLong();
  }

  long nanos() {
    return nanoTime.getAsLong();
  }

  /** The number of input clock ticks from the base to now (floor). */
  long ticks() {
    return ticksAt(nanos());
  }

  long ticksAt(long nanos) {
    long elapsed = Math.max(nanos - base, 0);
    return elapsed / NS_PER_S * FREQUENCY_HZ + elapsed % NS_PER_S * FREQUENCY_HZ / NS_PER_S;
  }

  /** The first nanosecond at which {@link #ticks()} reaches {@code tick}. */
  long nanosAt(long tick) {
    long whole = tick / FREQUENCY_HZ * NS_PER_S;
    long part = (tick % FREQUENCY_HZ * NS_PER_S + FREQUENCY_HZ - 1) / FREQUENCY_HZ;
    return base + whole + part;
  }
}
