package dev.toykvm.bench;

import dev.toykvm.vmm.DeviceSpec;
import java.nio.file.Path;
import java.util.List;

/**
 * What one {@code toykvm bench} run measures.
 *
 * @param image the bench guest: a bundled image's name or a ROM file
 * @param count measured accesses (and round trips of each floor) per path
 * @param warmup unmeasured accesses before them
 * @param size the access size in bytes (PIO kinds are skipped above 4)
 * @param placements where to run, in order
 * @param routes which routes to measure
 * @param kinds which access kinds to measure
 * @param throughputRuns which paths are run a second time with only the loop timed, for the
 *     throughput column (the others take it from the timed run, per-access timing included)
 * @param chart where to write the PNG, or null for none
 */
record BenchOptions(
    String image,
    long count,
    long warmup,
    int size,
    List<Placement> placements,
    List<DeviceSpec.Route> routes,
    List<AccessKind> kinds,
    ThroughputRuns throughputRuns,
    Path chart) {

  /** Which paths get a second, loop-only run for their throughput. */
  enum ThroughputRuns {
    /** Every path (doubles the run time). */
    ALL,
    /**
     * Posted writes only: their accesses are short, so the per-access timing (two {@code rdtsc} and
     * a store) is a large part of them; for the others it is a few percent.
     */
    POSTED,
    /** None. */
    NONE;

    boolean covers(AccessKind kind) {
      return this == ALL || (this == POSTED && kind.posted());
    }
  }

  BenchOptions {
    if (count < 1 || warmup < 0) {
      throw new IllegalArgumentException("count must be at least 1 and warmup at least 0");
    }
    if (size != 1 && size != 2 && size != 4 && size != 8) {
      throw new IllegalArgumentException("the access size is 1, 2, 4 or 8, not " + size);
    }
    placements = List.copyOf(placements);
    routes = List.copyOf(routes);
    kinds = List.copyOf(kinds);
  }
}
