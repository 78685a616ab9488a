package dev.toykvm.bench;

import dev.toykvm.kvm.Kvm;
import dev.toykvm.posix.Affinity;
import dev.toykvm.posix.Processes;
import dev.toykvm.vmm.DeviceSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs everything one {@code toykvm bench nvme} asks for: placement by placement, route by route,
 * completion mode by mode, a fresh boot of nvmetest each, over one temporary disk. Every thread of
 * this JVM is pinned while it runs and let loose on the CPUs it had before when it ends.
 */
final class NvmeBenchmark {
  private NvmeBenchmark() {}

  /**
   * One row: a route in a placement with one completion mode.
   *
   * @param qd1 the depth-1 reads: their latencies (ns) and reads per second
   * @param irq how the guest waited
   * @param qdIops reads per second at the deeper queue depth
   * @param exitsPerRead vCPU 0's exits to the VMM per depth-1 read ({@code KVM_GET_STATS_FD})
   * @param batchesPerRead its posted-write batches per depth-1 read
   */
  record Row(
      Measurement qd1, NvmeIrq irq, double qdIops, double exitsPerRead, double batchesPerRead) {
    String route() {
      return qd1.path();
    }

    Placement placement() {
      return qd1.placement();
    }
  }

  /**
   * What a run measured.
   *
   * @param rows in run order
   * @param pieces the parts a QD1 read is made of (model alone, disk read, doorbell writes)
   * @param failures one line for each row or piece that could not be measured (the others were)
   * @param placements for each placement and route, where each thread and process ran
   * @param tscGhz the guest TSC's rate used (median of every marker calibration)
   * @param elapsedSeconds how long the whole run took
   */
  record Results(
      NvmeBenchOptions options,
      List<Row> rows,
      List<Measurement> pieces,
      List<String> failures,
      Map<String, String> placements,
      double tscGhz,
      double elapsedSeconds) {}

  private record Pending(
      Placement placement, DeviceSpec.Route route, NvmeIrq irq, NvmeGuestRun.Run run) {}

  /** The QD1 column's name for a completion mode, also the chart's panel. */
  static String kind(NvmeIrq irq) {
    return "QD1 4 KiB read, irq=" + irq.label();
  }

  /** How long a row waits at most for this JVM's JIT to go quiet ({@link JitQuiet}). */
  static final long JIT_QUIET_MS = 60_000;

  /**
   * @param progress one line per step, as it happens
   * @throws BenchException if a row cannot be measured
   */
  static Results run(NvmeBenchOptions o, Consumer<String> progress) {
    long started = System.nanoTime();
    int self = Processes.getpid();
    long before = Affinity.mask(Affinity.allowedCpus());
    List<Pending> pending = new ArrayList<>();
    List<NvmePieces.PendingWrite> writes = new ArrayList<>();
    List<Measurement> pieces = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    Map<String, String> where = new LinkedHashMap<>();
    try (Kvm kvm = Kvm.open();
        NvmeScratch files = NvmeScratch.create(NvmeScratch.DISK_SIZE)) {
      // The guest rows first: the pieces run the model and a VM in this JVM, whose compilation
      // (C2 took 27 s on the model's driver loop here) would share the CPU with the rows.
      for (Placement p : o.placements()) {
        progress.accept("placement " + p.describe());
        Affinity.pinProcess(self, Affinity.cpu(p.vmmCpu()));
        for (DeviceSpec.Route route : o.routes()) {
          for (NvmeIrq irq : o.irqs()) {
            JitQuiet.await(JIT_QUIET_MS, progress);
            try {
              NvmeGuestRun.Run run =
                  NvmeGuestRun.run(kvm, files.kernel(), files.disk(), p, route, irq, o, progress);
              where.putIfAbsent(p.name() + ", " + Routes.label(route), run.placement());
              pending.add(new Pending(p, route, irq, run));
            } catch (BenchException e) {
              // One row lost is not the whole run lost: the others are still measured.
              failed(failures, e.getMessage(), progress);
            }
          }
        }
      }
      for (Placement p : o.placements()) {
        progress.accept("pieces, " + p.describe());
        Affinity.pinProcess(self, Affinity.cpu(p.vmmCpu()));
        JitQuiet.await(JIT_QUIET_MS, progress);
        try {
          writes.addAll(NvmePieces.writes(kvm, p, o.count(), o.warmup(), progress));
        } catch (BenchException e) {
          failed(failures, p.name() + ", doorbell-write pieces: " + e.getMessage(), progress);
        }
      }
      // Last: the model's driver loop in this JVM is what C2 compiled for 27 s.
      Placement first = o.placements().getFirst();
      Affinity.pinProcess(self, Affinity.cpu(first.vmmCpu()));
      pieces.addAll(NvmePieces.floors(files.disk(), first, o.count(), o.warmup(), progress));
    } finally {
      Affinity.pinProcess(self, before);
    }
    if (pending.isEmpty()) {
      throw new BenchException("cannot measure any row: " + String.join("; ", failures));
    }
    double rate = medianRate(pending);
    List<Row> rows = new ArrayList<>();
    for (Pending g : pending) {
      NvmeGuestRun.Run run = g.run();
      GuestBench.Run ticks = new GuestBench.Run(run.qd1Ticks(), run.qd1Loop(), o.count(), rate, "");
      Measurement qd1 =
          new Measurement(
              g.placement(),
              Routes.label(g.route()),
              kind(g.irq()),
              ticks.latencies(rate),
              ticks.perSecond(rate));
      rows.add(
          new Row(
              qd1,
              g.irq(),
              o.qdCount() / (run.qdLoop() / rate / 1e9),
              run.exitsPerRead(),
              run.batchesPerRead()));
    }
    for (NvmePieces.PendingWrite w : writes) {
      pieces.add(w.at(rate));
    }
    return new Results(o, rows, pieces, failures, where, rate, (System.nanoTime() - started) / 1e9);
  }

  private static void failed(List<String> failures, String why, Consumer<String> progress) {
    failures.add(why);
    progress.accept("  FAILED: " + why);
  }

  /**
   * The TSC's rate: the median of every calibration (two per boot). The TSC is invariant; one pair
   * of markers can be off by a scheduling delay, the median of many is the honest figure.
   */
  private static double medianRate(List<Pending> pending) {
    List<Double> rates = new ArrayList<>();
    for (Pending g : pending) {
      rates.add(g.run().qd1Rate());
      rates.add(g.run().qdRate());
    }
    rates.sort(null);
    int n = rates.size();
    return n % 2 == 1 ? rates.get(n / 2) : (rates.get(n / 2 - 1) + rates.get(n / 2)) / 2;
  }
}
