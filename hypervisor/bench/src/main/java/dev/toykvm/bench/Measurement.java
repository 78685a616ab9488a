package dev.toykvm.bench;

import org.HdrHistogram.Histogram;

/**
 * The result of one measured path in one placement.
 *
 * @param placement where the threads and processes ran
 * @param path a route ({@code ioregionfd}, {@code vmm}, {@code in-process}) or a floor ({@link
 *     #FLOOR_JVMS}, {@link #FLOOR_THREADS})
 * @param kind the access kind's label, or {@link #PING_PONG} for a floor
 * @param latencies one value per access or round trip, in nanoseconds
 * @param perSecond accesses (round trips) per second over the measured loop
 */
record Measurement(
    Placement placement, String path, String kind, Histogram latencies, double perSecond) {

  /** The raw floor: this JVM and a child JVM over a pair of pipes. */
  static final String FLOOR_JVMS = "pipe floor, 2 JVMs";

  /** The same, between two threads of this JVM. */
  static final String FLOOR_THREADS = "pipe floor, 2 threads";

  /** Not a floor of a round trip but its syscalls: write and read back on one thread. */
  static final String SYSCALLS_ONLY = "pipe floor, write+read, 1 thread";

  /** The floors' kind. */
  static final String PING_PONG = "32-byte ping-pong";

  /** A histogram for latencies from 1 ns to 10 s, three significant digits. */
  static Histogram newHistogram() {
    return new Histogram(1, 10_000_000_000L, 3);
  }

  double medianUs() {
    return latencies.getValueAtPercentile(50) / 1000.0;
  }

  double p99Us() {
    return latencies.getValueAtPercentile(99) / 1000.0;
  }

  long count() {
    return latencies.getTotalCount();
  }

  boolean isFloor() {
    return path.startsWith("pipe floor");
  }
}
