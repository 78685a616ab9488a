package dev.toykvm.bench;

import dev.toykvm.kvm.Kvm;
import dev.toykvm.vmm.BundledImages;
import dev.toykvm.vmm.DeviceSpec;
import dev.toykvm.vmm.GuestImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The pieces a QD1 read is made of, measured in the same run as the reads: the model and the disk
 * read alone ({@link NvmeModelFloor}), and, on the bench guest with the test device, the one
 * register write each route's doorbell costs: a posted MMIO write over ioregionfd (what the NVMe
 * doorbells are there), a plain MMIO write over ioregionfd, through the VMM (vmm), and the exit
 * hand-off alone (in-process).
 */
final class NvmePieces {
  private NvmePieces() {}

  /** The doorbell-like writes: route and access kind. */
  private record Write(DeviceSpec.Route route, AccessKind kind) {}

  private static final List<Write> WRITES =
      List.of(
          new Write(DeviceSpec.Route.IOREGIONFD, AccessKind.POSTED_MMIO_WRITE),
          new Write(DeviceSpec.Route.IOREGIONFD, AccessKind.MMIO_WRITE),
          new Write(DeviceSpec.Route.VMM, AccessKind.MMIO_WRITE),
          new Write(DeviceSpec.Route.IN_PROCESS, AccessKind.MMIO_WRITE));

  /** A register write in ticks until the TSC's rate is known. */
  record PendingWrite(Placement placement, String path, String kind, GuestBench.Run run) {
    Measurement at(double ticksPerNs) {
      return new Measurement(
          placement, path, kind, run.latencies(ticksPerNs), run.perSecond(ticksPerNs));
    }
  }

  /** The model alone, once (it runs in this JVM; placement does not apply). */
  static List<Measurement> floors(
      Path disk, Placement p, long count, long warmup, Consumer<String> progress) {
    NvmeModelFloor.Floors f = NvmeModelFloor.measure(disk, count, warmup);
    List<Measurement> ms =
        List.of(
            new Measurement(p, "NVMe model alone", "QD1 4 KiB read", f.model(), rate(f.model())),
            new Measurement(
                p, "pread of the disk file", "4 KiB, page cache", f.pread(), rate(f.pread())));
    for (Measurement m : ms) {
      progress.accept(String.format("  %-40s median %.2f us", m.path(), m.medianUs()));
    }
    return ms;
  }

  /** The four doorbell-like writes in placement {@code p}. */
  static List<PendingWrite> writes(
      Kvm kvm, Placement p, long count, long warmup, Consumer<String> progress) {
    GuestImage image = BundledImages.resolve("bench");
    List<PendingWrite> out = new ArrayList<>();
    for (Write w : WRITES) {
      GuestBench.Run run =
          GuestBench.run(kvm, image, p, w.route(), w.kind(), 4, count, warmup, false, progress);
      out.add(new PendingWrite(p, Routes.label(w.route()), w.kind().label(), run));
    }
    return out;
  }

  /** Operations per second if they ran back to back at their mean. */
  private static double rate(org.HdrHistogram.Histogram h) {
    return 1e9 / Math.max(1, h.getMean());
  }
}
