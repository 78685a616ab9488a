package dev.toykvm.vmm.bench;

import dev.toykvm.ioregionfd.posix.Posix;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.vmm.BundledImages;
import dev.toykvm.vmm.DeviceSpec;
import dev.toykvm.vmm.GuestImage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

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
      double elapsedSeconds) {}

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
    int self = Posix.getpid();
    long before = Affinity.mask(Affinity.allowedCpus());
    List<Measurement> all = new ArrayList<>();
    Map<String, String> where = new LinkedHashMap<>();
    try (Kvm kvm = Kvm.open()) {
      for (Placement p : options.placements()) {
        progress.accept("placement " + p.describe());
        Affinity.pinProcess(self, Affinity.cpu(p.vmmCpu()));
        all.add(PipeFloor.twoJvms(p, options.count(), options.warmup(), progress));
        progress.accept(line(all.getLast()));
        all.add(PipeFloor.twoThreads(p, options.count(), options.warmup()));
        progress.accept(line(all.getLast()));
        for (DeviceSpec.Route route : options.routes()) {
          for (AccessKind kind : options.kinds()) {
            if (!kind.runsOn(route, options.size())) {
              continue;
            }
            GuestBench.Run timed =
                GuestBench.run(
                    kvm,
                    image,
                    p,
                    route,
                    kind,
                    options.size(),
                    options.count(),
                    options.warmup(),
                    false,
                    progress);
            where.putIfAbsent(p.name() + ", " + Routes.label(route), timed.placement());
            double perSecond = timed.perSecond();
            if (options.throughputRuns()) {
              perSecond =
                  GuestBench.run(
                          kvm,
                          image,
                          p,
                          route,
                          kind,
                          options.size(),
                          options.count(),
                          options.warmup(),
                          true,
                          progress)
                      .perSecond();
            }
            all.add(
                new Measurement(
                    p, Routes.label(route), kind.label(), timed.latencies(), perSecond));
          }
        }
      }
    } finally {
      Affinity.pinProcess(self, before);
    }
    return new Results(options, all, where, (System.nanoTime() - started) / 1e9);
  }

  private static String line(Measurement m) {
    return String.format(
        "  %-36s %s; median %.2f us, %.0f/s",
        m.path(), m.placement().name(), m.medianUs(), m.perSecond());
  }
}
