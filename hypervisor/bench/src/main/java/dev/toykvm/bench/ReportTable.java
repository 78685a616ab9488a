package dev.toykvm.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The text of a benchmark's results, as Markdown tables (readable in a terminal, pasteable into
 * {@code docs/performance.md}): every path, the ratios that matter, and the targets of issue 4.
 */
final class ReportTable {
  private ReportTable() {}

  /** A real KVM exit to userspace and back on this machine kind (design.md), in us. */
  static final double REAL_KVM_EXIT_US = 10.5;

  /** The whole report. */
  static String render(Benchmark.Results r) {
    StringBuilder b = new StringBuilder();
    BenchOptions o = r.options();
    b.append(
        String.format(
            Locale.ROOT,
            "toykvm bench: %d accesses per path after %d warm-up, size %d, %.0f s in all;"
                + " guest TSC %.3f GHz (median of every run's marker calibration)%n%n",
            o.count(),
            o.warmup(),
            o.size(),
            r.elapsedSeconds(),
            r.tscGhz()));
    b.append(paths(r.measurements(), o.throughputRuns())).append('\n');
    b.append(ratios(r.measurements())).append('\n');
    b.append(targets(r.measurements())).append('\n');
    b.append("Placements (CPUs each thread and process was allowed, read back from /proc):\n");
    r.placements().forEach((k, v) -> b.append("- ").append(k).append(": ").append(v).append('\n'));
    return b.toString();
  }

  /** One row per measured path. */
  static String paths(List<Measurement> ms, BenchOptions.ThroughputRuns throughputRuns) {
    StringBuilder b = new StringBuilder();
    b.append("| placement | path | access | median (us) | p99 (us) | per second | measured |\n");
    b.append("|---|---|---|---:|---:|---:|---:|\n");
    for (Measurement m : ms) {
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %s | %.2f | %.2f | %s | %d |%n",
              m.placement().name(),
              m.path(),
              m.kind(),
              m.medianUs(),
              m.p99Us(),
              rate(m.perSecond()),
              m.count()));
    }
    b.append(
        switch (throughputRuns) {
          case ALL -> "\nPer second: from a second run of each path that timed only its loop.\n";
          case POSTED ->
              "\nPer second: posted writes from a second run that timed only its loop; the others"
                  + " from the timed run (its two rdtsc per access included).\n";
          case NONE -> "\nPer second: from the timed run (its two rdtsc per access included).\n";
        });
    return b.toString();
  }

  /**
   * Per placement and access kind, from the medians: ioregionfd against the 2-JVM pipe floor, the
   * old route against ioregionfd, and the floor of the toy (in-process) against ioregionfd.
   */
  static String ratios(List<Measurement> ms) {
    StringBuilder b = new StringBuilder();
    b.append("| placement | access | ioregionfd / pipe floor | vmm / ioregionfd")
        .append(" | in-process / ioregionfd |\n");
    b.append("|---|---|---:|---:|---:|\n");
    List<String> seen = new ArrayList<>();
    for (Measurement m : ms) {
      String key = m.placement().name() + "/" + m.kind();
      if (m.isFloor() || seen.contains(key)) {
        continue;
      }
      seen.add(key);
      Optional<Measurement> io = find(ms, m.placement(), "ioregionfd", m.kind());
      Optional<Measurement> floor =
          find(ms, m.placement(), Measurement.FLOOR_JVMS, Measurement.PING_PONG);
      Optional<Measurement> vmm = find(ms, m.placement(), "vmm", m.kind());
      Optional<Measurement> inProcess = find(ms, m.placement(), "in-process", m.kind());
      b.append(
          String.format(
              "| %s | %s | %s | %s | %s |%n",
              m.placement().name(),
              m.kind(),
              ratio(io, floor),
              ratio(vmm, io),
              ratio(inProcess, io)));
    }
    return b.toString();
  }

  /** The targets of issue 4 part 5, each met or not, for every placement measured. */
  static String targets(List<Measurement> ms) {
    StringBuilder b = new StringBuilder("Targets of issue 4 (MMIO read unless said):\n");
    List<Placement> placements = ms.stream().map(Measurement::placement).distinct().toList();
    for (Placement p : placements) {
      Optional<Measurement> io = find(ms, p, "ioregionfd", AccessKind.MMIO_READ.label());
      Optional<Measurement> floor = find(ms, p, Measurement.FLOOR_JVMS, Measurement.PING_PONG);
      Optional<Measurement> vmm = find(ms, p, "vmm", AccessKind.MMIO_READ.label());
      Optional<Measurement> posted =
          find(ms, p, "ioregionfd", AccessKind.POSTED_MMIO_WRITE.label());
      String tag = p.name().equals("same-cpu") ? "" : " (the targets are set for same-cpu)";
      b.append("- ").append(p.describe()).append(tag).append(":\n");
      if (io.isPresent() && floor.isPresent()) {
        double x = io.get().medianUs() / floor.get().medianUs();
        b.append(target("ioregionfd within 1.3x the 2-JVM pipe round trip", x <= 1.3, x, "x"));
      }
      if (io.isPresent() && vmm.isPresent()) {
        double x = vmm.get().medianUs() / io.get().medianUs();
        b.append(target("ioregionfd at least 1.5x faster than the vmm route", x >= 1.5, x, "x"));
      }
      if (io.isPresent()) {
        double us = io.get().medianUs();
        b.append(
            target(
                "ioregionfd below a real KVM exit (" + REAL_KVM_EXIT_US + " us)",
                us < REAL_KVM_EXIT_US,
                us,
                " us"));
      }
      if (posted.isPresent()) {
        double m = posted.get().perSecond() / 1e6;
        b.append(target("posted writes at least 1 M/s", m >= 1, m, " M/s"));
      }
    }
    return b.toString();
  }

  private static String target(String what, boolean met, double value, String unit) {
    return String.format(
        Locale.ROOT, "  - %s: %.2f%s, %s%n", what, value, unit, met ? "met" : "NOT met");
  }

  static Optional<Measurement> find(
      List<Measurement> ms, Placement placement, String path, String kind) {
    return ms.stream()
        .filter(
            m -> m.placement().equals(placement) && m.path().equals(path) && m.kind().equals(kind))
        .findFirst();
  }

  private static String ratio(Optional<Measurement> a, Optional<Measurement> b) {
    if (a.isEmpty() || b.isEmpty()) {
      return "-";
    }
    return String.format(Locale.ROOT, "%.2f", a.get().medianUs() / b.get().medianUs());
  }

  /** E.g. {@code 1.23 M}, {@code 456 k}. */
  static String rate(double perSecond) {
    if (perSecond >= 1e6) {
      return String.format(Locale.ROOT, "%.2f M", perSecond / 1e6);
    }
    if (perSecond >= 1e3) {
      return String.format(Locale.ROOT, "%.1f k", perSecond / 1e3);
    }
    return String.format(Locale.ROOT, "%.0f", perSecond);
  }
}
