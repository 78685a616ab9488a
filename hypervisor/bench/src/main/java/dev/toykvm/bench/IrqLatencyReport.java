package dev.toykvm.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;

/**
 * The interrupt latency part of {@code toykvm bench guest-speed}: every source (KVM_IRQ_LINE, an
 * irqfd written by a thread, an irqfd written by a device process; edge and level) with the vCPU
 * busy and in {@code hlt}, then the floors measured apart ({@link WakeupFloors}), as one table.
 */
final class IrqLatencyReport {
  private IrqLatencyReport() {}

  /** From this many samples per row on, a discarded pass of the thread rows comes first. */
  static final int JIT_WARMUP_FROM = 1000;

  /** One line of the table: a measured histogram of nanoseconds and where it ran. */
  record Line(String what, String waits, Histogram ns, String placement) {}

  /** Measures every row with {@code samples} samples after {@code warmup}. */
  static List<Line> measure(int samples, int warmup, int cpu, int other, Consumer<String> progress)
      throws InterruptedException {
    if (samples >= JIT_WARMUP_FROM) {
      // The kernel side's interrupt path runs once per sample: without this, the first rows would
      // be measured while the JIT is still compiling it (they came out up to 3x slower).
      progress.accept("irq latency: a warm-up pass of every thread row, discarded");
      for (LatencyGuest.Wait wait : LatencyGuest.Wait.values()) {
        for (IrqSource s :
            List.of(
                new IrqSource.IrqLine(),
                new IrqSource.ThreadEventfd(false),
                new IrqSource.ThreadEventfd(true))) {
          try (s) {
            IrqLatency.measure(s, wait, warmup, samples, cpu, other);
          }
        }
      }
    }
    List<Line> lines = new ArrayList<>();
    for (LatencyGuest.Wait wait : LatencyGuest.Wait.values()) {
      lines.add(row(new IrqSource.IrqLine(), wait, warmup, samples, cpu, other, progress));
      for (boolean level : new boolean[] {false, true}) {
        lines.add(
            row(new IrqSource.ThreadEventfd(level), wait, warmup, samples, cpu, other, progress));
        lines.add(
            row(
                new DeviceProcessSource(level, other),
                wait,
                warmup,
                samples,
                cpu,
                other,
                progress));
      }
    }
    lines.add(
        new Line(
            "floor: eventfd write -> a thread's poll() returns, same CPU",
            "-",
            WakeupFloors.eventfdWake(other, other, warmup, samples),
            "both threads on cpu " + other));
    lines.add(
        new Line(
            "floor: eventfd write -> a thread's poll() returns, across CPUs",
            "-",
            WakeupFloors.eventfdWake(cpu, other, warmup, samples),
            "poller on cpu " + cpu + ", writer on cpu " + other));
    for (LatencyGuest.Wait wait : LatencyGuest.Wait.values()) {
      lines.add(
          new Line(
              "floor: kick() -> run() returns KVM_EXIT_INTR",
              wait.label,
              WakeupFloors.kickToExit(wait, cpu, other, warmup, samples),
              "VMM thread and vCPU engine on cpu " + cpu + ", kicking thread on cpu " + other));
    }
    lines.add(
        new Line(
            "floor: run() -> out exit -> run() returns (round trip)",
            "-",
            WakeupFloors.exitRoundTrip(cpu, warmup, samples),
            "VMM thread and vCPU engine on cpu " + cpu));
    lines.add(
        new Line(
            "floor: run() -> KVM_INTERRUPT delivered -> handler's out exit (round trip, no"
                + " irqchip)",
            "-",
            WakeupFloors.deliveryRoundTrip(cpu, warmup, samples),
            "VMM thread and vCPU engine on cpu " + cpu));
    return lines;
  }

  private static Line row(
      IrqSource source,
      LatencyGuest.Wait wait,
      int warmup,
      int samples,
      int cpu,
      int other,
      Consumer<String> progress)
      throws InterruptedException {
    try (source) {
      IrqLatency.Row r = IrqLatency.measure(source, wait, warmup, samples, cpu, other);
      progress.accept(
          String.format(
              Locale.ROOT,
              "irq latency %s, %s: min %.1f p10 %.1f p25 %.1f median %.1f p75 %.1f p90 %.1f us",
              r.source(),
              wait.label,
              r.ns().getMinValue() / 1e3,
              r.ns().getValueAtPercentile(10) / 1e3,
              r.ns().getValueAtPercentile(25) / 1e3,
              r.ns().getValueAtPercentile(50) / 1e3,
              r.ns().getValueAtPercentile(75) / 1e3,
              r.ns().getValueAtPercentile(90) / 1e3));
      return new Line(r.source(), wait.label, r.ns(), r.placement());
    }
  }

  /** The table docs/performance.md shows, then where each row ran. */
  static String render(List<Line> lines, int samples, int warmup) {
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            Locale.ROOT,
            "%ninterrupt latency: signal (KVM_IRQ_LINE, or the eventfd write of an irqfd) -> the"
                + " handler's first instruction, an out that exits to the VMM (exit hand-off"
                + " included); %d samples per row after %d warm-up%s%n%n",
            samples,
            warmup,
            samples >= JIT_WARMUP_FROM ? ", after a discarded pass of the thread rows" : ""));
    b.append("| source | vCPU waits in | min (us) | median (us) | p99 (us) | max (us) |\n");
    b.append("|---|---|---|---|---|---|\n");
    for (Line l : lines) {
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %.1f | %.1f | %.1f | %.0f |%n",
              l.what(),
              l.waits(),
              l.ns().getMinValue() / 1e3,
              l.ns().getValueAtPercentile(50) / 1e3,
              l.ns().getValueAtPercentile(99) / 1e3,
              l.ns().getMaxValue() / 1e3));
    }
    b.append('\n');
    for (Line l : lines) {
      b.append(String.format("where (%s, %s): %s%n", l.what(), l.waits(), l.placement()));
    }
    return b.toString();
  }
}
