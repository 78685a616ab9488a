package dev.toykvm.bench;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The text of {@code toykvm bench nvme}'s results as Markdown tables: every row, the ratios of
 * issue 10 (ioregionfd against the old route and against the model in the VMM, QD1 IOPS, same run),
 * and where everything ran.
 */
final class NvmeReport {
  private NvmeReport() {}

  /** Issue 10's target: ioregionfd at least this many times the vmm route's QD1 IOPS. */
  static final double TARGET_VS_VMM = 1.5;

  static String render(NvmeBenchmark.Results r) {
    NvmeBenchOptions o = r.options();
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            Locale.ROOT,
            "toykvm bench nvme: 4 KiB random reads of a %d MiB disk file (in the page cache);"
                + " %d at QD1 after %d warm-up, %d at QD%d; CQ head doorbell %s; %.0f s in all;"
                + " guest TSC %.3f GHz (median of every run's marker calibration)%n%n",
            NvmeScratch.DISK_SIZE >> 20,
            o.count(),
            o.warmup(),
            o.qdCount(),
            o.qd(),
            o.deferCqDoorbell()
                ? "deferred to the next submission (--cq-doorbell=deferred)"
                : "rung after each completion",
            r.elapsedSeconds(),
            r.tscGhz()));
    b.append(rows(r.rows(), o.qd())).append('\n');
    b.append(ratios(r.rows(), o.qd())).append('\n');
    b.append(pieces(r.pieces())).append('\n');
    if (!r.failures().isEmpty()) {
      b.append("NOT measured (the rest of the run was):\n");
      r.failures().forEach(f -> b.append("- ").append(f).append('\n'));
      b.append('\n');
    }
    b.append("Placements (CPUs each thread and process was allowed, read back from /proc):\n");
    r.placements().forEach((k, v) -> b.append("- ").append(k).append(": ").append(v).append('\n'));
    return b.toString();
  }

  static String rows(List<NvmeBenchmark.Row> rows, int qd) {
    StringBuilder b = new StringBuilder();
    b.append(
        "| placement | route | irq | QD1 median (us) | QD1 mean (us) | QD1 p99 (us) | QD1 p99.9"
            + " (us) | QD1 max (us) | QD1 IOPS | QD"
            + qd
            + " IOPS | QD1 reads | exits / read | posted batches / read |\n");
    b.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (NvmeBenchmark.Row row : rows) {
      Measurement m = row.qd1();
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %s | %d | %.2f | %.2f |%n",
              m.placement().name(),
              m.path(),
              row.irq().label(),
              m.medianUs(),
              m.latencies().getMean() / 1000.0,
              m.p99Us(),
              m.latencies().getValueAtPercentile(99.9) / 1000.0,
              m.latencies().getMaxValue() / 1000.0,
              ReportTable.rate(m.perSecond()),
              ReportTable.rate(row.qdIops()),
              m.count(),
              row.exitsPerRead(),
              row.batchesPerRead()));
    }
    return b.toString();
  }

  /**
   * Per placement and completion mode: ioregionfd's IOPS over the other routes' (QD1 IOPS is one
   * over the mean latency, so the tails weigh in), and the vmm route's QD1 median over ioregionfd's
   * (the typical read, without them).
   */
  static String ratios(List<NvmeBenchmark.Row> rows, int qd) {
    StringBuilder b = new StringBuilder();
    b.append(
        "| placement | irq | ioregionfd / vmm, QD1 IOPS | ioregionfd / in-process, QD1 IOPS |"
            + " vmm / ioregionfd, QD1 median | ioregionfd / vmm, QD"
            + qd
            + " IOPS | ioregionfd / in-process, QD"
            + qd
            + " IOPS |\n");
    b.append("|---|---|---:|---:|---:|---:|---:|\n");
    StringBuilder targets = new StringBuilder();
    for (NvmeBenchmark.Row io : rows) {
      if (!io.route().equals("ioregionfd")) {
        continue;
      }
      Optional<NvmeBenchmark.Row> vmm = other(rows, io, "vmm");
      Optional<NvmeBenchmark.Row> in = other(rows, io, "in-process");
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %s | %s | %s | %s | %s |%n",
              io.placement().name(),
              io.irq().label(),
              ratio(io.qd1().perSecond(), vmm.map(v -> v.qd1().perSecond())),
              ratio(io.qd1().perSecond(), in.map(v -> v.qd1().perSecond())),
              vmm.map(v -> ratio(v.qd1().medianUs(), Optional.of(io.qd1().medianUs()))).orElse("-"),
              ratio(io.qdIops(), vmm.map(NvmeBenchmark.Row::qdIops)),
              ratio(io.qdIops(), in.map(NvmeBenchmark.Row::qdIops))));
      vmm.ifPresent(
          v -> {
            double x = io.qd1().perSecond() / v.qd1().perSecond();
            targets.append(
                String.format(
                    Locale.ROOT,
                    "- %s, irq=%s: ioregionfd %.2fx the vmm route's QD1 IOPS (target %.1fx): %s%n",
                    io.placement().name(),
                    io.irq().label(),
                    x,
                    TARGET_VS_VMM,
                    x >= TARGET_VS_VMM ? "met" : "NOT met"));
          });
    }
    if (!targets.isEmpty()) {
      b.append("\nTarget of issue 10 (ioregionfd >= 1.5x the old route at QD1):\n").append(targets);
    }
    return b.toString();
  }

  /** The parts a QD1 read is made of, measured in the same run. */
  static String pieces(List<Measurement> pieces) {
    StringBuilder b = new StringBuilder();
    b.append("Pieces of a QD1 read, measured in the same run (register writes: the test device on")
        .append(" the bench guest):\n\n");
    b.append("| placement | piece | what | median (us) | p99 (us) | measured |\n");
    b.append("|---|---|---|---:|---:|---:|\n");
    for (Measurement m : pieces) {
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %s | %.2f | %.2f | %d |%n",
              m.placement().name(),
              m.path(),
              m.kind(),
              m.medianUs(),
              m.p99Us(),
              m.count()));
    }
    return b.toString();
  }

  private static Optional<NvmeBenchmark.Row> other(
      List<NvmeBenchmark.Row> rows, NvmeBenchmark.Row io, String route) {
    return rows.stream()
        .filter(
            r ->
                r.route().equals(route)
                    && r.irq() == io.irq()
                    && r.placement().equals(io.placement()))
        .findFirst();
  }

  private static String ratio(double a, Optional<Double> b) {
    return b.filter(x -> x > 0).map(x -> String.format(Locale.ROOT, "%.2f", a / x)).orElse("-");
  }
}
