package dev.toykvm.bench;

import ch.qos.logback.classic.Level;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.posix.Affinity;
import dev.toykvm.posix.Processes;
import dev.toykvm.vmm.BundledImages;
import dev.toykvm.vmm.DeviceSpec;
import dev.toykvm.vmm.GuestImage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.LoggerFactory;

/**
 * Runs everything one {@code toykvm bench} asks for, placement by placement: the two pipe floors,
 * then every route with every access kind on the bench guest. Every thread of this JVM is pinned
 * while it runs and let loose on all the CPUs it had before when it ends.
 */
final class Benchmark {
  private Benchmark() {}

  /**
   * What a run measured.
   *
   * @param measurements floors first, then the routes, placement by placement
   * @param placements for each placement's name, where each thread and process ran
   * @param elapsedSeconds how long the whole run took
   */
  record Results(
      BenchOptions options,
      List<Measurement> measurements,
      Map<String, String> placements,
      double tscGhz,
      double elapsedSeconds) {}

  /** A guest path measured, in TSC ticks until the rate is known. */
  private record Pending(
      Placement placement,
      DeviceSpec.Route route,
      AccessKind kind,
      GuestBench.Run timed,
      GuestBench.Run loop) {}

  private static GuestBench.Run guest(
      Kvm kvm,
      GuestImage image,
      BenchOptions options,
      Placement p,
      DeviceSpec.Route route,
      AccessKind kind,
      boolean loopOnly,
      Consumer<String> progress) {
    return GuestBench.run(
        kvm,
        image,
        p,
        route,
        kind,
        options.size(),
        options.count(),
        options.warmup(),
        loopOnly,
        progress);
  }

  /**
   * Turns the kernel side's tracepoints off for the run (a measured path must not be traced; a
   * {@code run --trace} earlier in the same JVM leaves them on) and returns their level.
   */
  private static Level silenceKernelTrace() {
    if (LoggerFactory.getLogger("toykvm.trace") instanceof ch.qos.logback.classic.Logger trace) {
      Level level = trace.getLevel();
      trace.setLevel(Level.OFF);
      return level;
    }
    return null;
  }

  private static void restoreKernelTrace(Level level) {
    if (level != null
        && LoggerFactory.getLogger("toykvm.trace") instanceof ch.qos.logback.classic.Logger trace) {
      trace.setLevel(level);
    }
  }

  /**
   * The guest TSC's rate: the median of every run's two-marker calibration. One run's markers can
   * be off (a marker exit that waits behind a device draining posted writes); the TSC itself is
   * invariant, so the median of many runs is the honest figure.
   */
  private static double medianRate(List<Pending> pending) {
    List<Double> rates = new ArrayList<>();
    for (Pending g : pending) {
      rates.add(g.timed().ticksPerNs());
      if (g.loop() != g.timed()) {
        rates.add(g.loop().ticksPerNs());
      }
    }
    if (rates.isEmpty()) {
      return Double.NaN;
    }
    rates.sort(null);
    int n = rates.size();
    return n % 2 == 1 ? rates.get(n / 2) : (rates.get(n / 2 - 1) + rates.get(n / 2)) / 2;
  }

  /**
   * @param progress one line per step, as it happens
   * @throws BenchException if a path cannot be measured
   * @throws dev.toykvm.vmm.ImageException if the bench image cannot be loaded
   */
  static Results run(BenchOptions options, Consumer<String> progress) {
    long started = System.nanoTime();
    boolean guestRuns =
        options.routes().stream()
            .anyMatch(r -> options.kinds().stream().anyMatch(k -> k.runsOn(r, options.size())));
    GuestImage image = guestRuns ? BundledImages.resolve(options.image()) : null;
    int self = Processes.getpid();
    long before = Affinity.mask(Affinity.allowedCpus());
    Level traceLevel = silenceKernelTrace();
    List<Measurement> all = new ArrayList<>();
    List<Pending> pending = new ArrayList<>();
    Map<String, String> where = new LinkedHashMap<>();
    try (Kvm kvm = Kvm.open()) {
      for (Placement p : options.placements()) {
        progress.accept("placement " + p.describe());
        Affinity.pinProcess(self, Affinity.cpu(p.vmmCpu()));
        all.add(PipeFloor.twoJvms(p, options.count(), options.warmup(), progress));
        progress.accept(line(all.getLast()));
        all.add(PipeFloor.twoThreads(p, options.count(), options.warmup()));
        progress.accept(line(all.getLast()));
        all.add(PipeFloor.syscallsOnly(p, options.count(), options.warmup()));
        progress.accept(line(all.getLast()));
        for (DeviceSpec.Route route : options.routes()) {
          for (AccessKind kind : options.kinds()) {
            if (!kind.runsOn(route, options.size())) {
              continue;
            }
            GuestBench.Run timed = guest(kvm, image, options, p, route, kind, false, progress);
            where.putIfAbsent(p.name() + ", " + Routes.label(route), timed.placement());
            GuestBench.Run loop =
                options.throughputRuns().covers(kind)
                    ? guest(kvm, image, options, p, route, kind, true, progress)
                    : timed;
            pending.add(new Pending(p, route, kind, timed, loop));
          }
        }
      }
    } finally {
      Affinity.pinProcess(self, before);
      restoreKernelTrace(traceLevel);
    }
    double ticksPerNs = medianRate(pending);
    for (Pending g : pending) {
      all.add(
          new Measurement(
              g.placement(),
              Routes.label(g.route()),
              g.kind().label(),
              g.timed().latencies(ticksPerNs),
              g.loop().perSecond(ticksPerNs)));
    }
    // Placement by placement, floors first (a stable sort keeps the rest in run order).
    all.sort(java.util.Comparator.comparingInt(m -> options.placements().indexOf(m.placement())));
    return new Results(options, all, where, ticksPerNs, (System.nanoTime() - started) / 1e9);
  }

  private static String line(Measurement m) {
    return String.format(
        "  %-36s %s; median %.2f us, %.0f/s",
        m.path(), m.placement().name(), m.medianUs(), m.perSecond());
  }
}
