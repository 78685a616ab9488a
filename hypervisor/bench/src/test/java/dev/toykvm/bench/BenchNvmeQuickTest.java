package dev.toykvm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.posix.Affinity;
import dev.toykvm.vmm.DeviceSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quick mode of {@code toykvm bench nvme}, so that the harness cannot rot: every route and
 * completion mode boots nvmetest, reads, and gives sane, positive numbers. Performance is judged
 * from the full run ({@code docs/performance.md}, "NVMe"), never in a test.
 */
@Tag("e2e")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class BenchNvmeQuickTest {

  @Test
  void quickRunMeasuresEveryRouteAndIrqModeWithSaneNumbers(@TempDir Path dir) throws IOException {
    NvmeBenchOptions options =
        quick(
            List.of(DeviceSpec.Route.values()),
            List.of(NvmeIrq.MSIX, NvmeIrq.POLL),
            false,
            dir.resolve("nvme.png"));
    List<String> before = placesOfThisJvm();

    NvmeBenchmark.Results r = NvmeBenchmark.run(options, line -> {});

    assertEquals(List.of(), r.failures());
    assertEquals(3 * 2, r.rows().size(), r.rows().toString());
    for (DeviceSpec.Route route : DeviceSpec.Route.values()) {
      for (NvmeIrq irq : List.of(NvmeIrq.MSIX, NvmeIrq.POLL)) {
        assertTrue(
            r.rows().stream()
                .anyMatch(row -> row.route().equals(Routes.label(route)) && row.irq() == irq),
            route + " " + irq + " missing: " + r.rows());
      }
    }
    for (NvmeBenchmark.Row row : r.rows()) {
      Measurement m = row.qd1();
      // The statistics say which route did the work: the doorbells are exits to the VMM on the
      // vmm and in-process routes, posted writes to the device on ioregionfd.
      if (row.route().equals("ioregionfd")) {
        assertTrue(row.exitsPerRead() < 0.1, row + ": exits on ioregionfd");
        assertTrue(row.batchesPerRead() >= 1, row + ": no posted doorbell");
      } else {
        assertTrue(row.exitsPerRead() >= 2, row + ": two doorbells, two exits");
        assertEquals(0, row.batchesPerRead(), row.toString());
      }
      String what = m.path() + " " + m.kind() + ": " + m.medianUs() + " us, " + m.perSecond();
      assertEquals(300, m.count(), what);
      assertTrue(m.medianUs() > 0 && m.medianUs() < 1_000_000, what);
      assertTrue(m.p99Us() >= m.medianUs(), what);
      assertTrue(m.perSecond() > 0 && Double.isFinite(m.perSecond()), what);
      assertTrue(row.qdIops() > 0 && Double.isFinite(row.qdIops()), what + ", " + row.qdIops());
    }
    // The model alone and the pread once, the four doorbell-like writes in the placement.
    assertEquals(2 + 4, r.pieces().size(), r.pieces().toString());
    for (Measurement m : r.pieces()) {
      assertEquals(300, m.count(), m.path());
      assertTrue(m.medianUs() > 0, m.path());
    }
    assertTrue(r.tscGhz() > 0.1 && r.tscGhz() < 10, "TSC " + r.tscGhz());

    String table = NvmeReport.render(r);
    assertTrue(table.contains("| same-cpu | ioregionfd | msix |"), table);
    assertTrue(table.contains("| same-cpu | in-process | poll |"), table);
    assertTrue(table.contains("ioregionfd / vmm, QD1 IOPS"), table);
    assertTrue(table.contains("vmm / ioregionfd, QD1 median"), table);
    assertTrue(table.contains("- same-cpu, irq=msix: ioregionfd "), table);
    assertTrue(table.contains("NVMe device JVM (pid "), table);
    assertTrue(table.contains("| NVMe model alone |"), table);
    LatencyChart.write(r.rows().stream().map(NvmeBenchmark.Row::qd1).toList(), options.chart());
    assertTrue(Files.size(options.chart()) > 1000);

    assertEquals(before, placesOfThisJvm(), "this JVM may run where it could before");
    assertEquals(
        List.of(),
        ProcessHandle.current().children().filter(ProcessHandle::isAlive).toList(),
        "a device process outlived its VM");
  }

  @Test
  void theGuestCanDeferItsCqDoorbellToTheNextSubmission() {
    NvmeBenchOptions options =
        quick(
            List.of(DeviceSpec.Route.IOREGIONFD), List.of(NvmeIrq.POLL, NvmeIrq.MSIX), true, null);

    NvmeBenchmark.Results r = NvmeBenchmark.run(options, line -> {});

    // nvmetest checks every completion's status and command identifier: a doorbell the
    // controller missed would be a timeout, a failed row.
    assertEquals(List.of(), r.failures());
    assertEquals(2, r.rows().size(), r.rows().toString());
    assertTrue(NvmeReport.render(r).contains("CQ head doorbell deferred"));
    for (NvmeBenchmark.Row row : r.rows()) {
      // One posted batch per read: the CQ head doorbell goes with the next SQ tail doorbell.
      assertTrue(row.batchesPerRead() > 0.9 && row.batchesPerRead() < 1.1, row.toString());
    }
  }

  /** What {@code --quick} measures: 300 reads at QD1 after 50, 1200 at QD16, on one CPU. */
  private static NvmeBenchOptions quick(
      List<DeviceSpec.Route> routes, List<NvmeIrq> irqs, boolean deferCqDoorbell, Path chart) {
    int cpu = Affinity.allowedCpus().getFirst();
    return new NvmeBenchOptions(
        300, 50, 16, 1200, List.of(Placement.sameCpu(cpu)), routes, irqs, deferCqDoorbell, chart);
  }

  private static List<String> placesOfThisJvm() {
    return Affinity.threads((int) ProcessHandle.current().pid()).stream()
        .map(Affinity.ThreadPlace::cpus)
        .distinct()
        .toList();
  }
}
