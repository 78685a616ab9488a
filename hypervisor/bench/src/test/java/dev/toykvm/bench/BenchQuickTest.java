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
 * The quick mode of {@code toykvm bench}, so that the harness cannot rot. It asserts only that
 * every path ran and gave sane, positive numbers: performance is judged from the full run ({@code
 * docs/performance.md}), never in a test.
 */
@Tag("e2e")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class BenchQuickTest {

  @Test
  void quickRunMeasuresEveryRouteAndKindWithSaneNumbers(@TempDir Path dir) throws IOException {
    int cpu = Affinity.allowedCpus().getFirst();
    BenchOptions options =
        new BenchOptions(
            "bench",
            2000,
            500,
            4,
            List.of(Placement.sameCpu(cpu)),
            List.of(DeviceSpec.Route.values()),
            List.of(AccessKind.values()),
            BenchOptions.ThroughputRuns.NONE,
            dir.resolve("chart.png"));
    List<String> before =
        Affinity.threads((int) ProcessHandle.current().pid()).stream()
            .map(Affinity.ThreadPlace::cpus)
            .distinct()
            .toList();

    Benchmark.Results r = Benchmark.run(options, line -> {});

    // 3 floors; 4 kinds on each of the 3 routes; posted writes on ioregionfd.
    assertEquals(3 + 3 * 4 + 1, r.measurements().size(), r.measurements().toString());
    for (Measurement m : r.measurements()) {
      String what = m.path() + " " + m.kind() + ": " + m.medianUs() + " us, " + m.perSecond();
      assertEquals(2000, m.count(), what);
      assertTrue(m.medianUs() > 0 && m.medianUs() < 1_000_000, what);
      assertTrue(m.p99Us() >= m.medianUs(), what);
      assertTrue(m.perSecond() > 0 && Double.isFinite(m.perSecond()), what);
    }
    String table = ReportTable.render(r);
    assertTrue(table.contains("| same-cpu | ioregionfd | MMIO read |"), table);
    assertTrue(table.contains("ioregionfd / pipe floor"), table);
    assertTrue(table.contains("VMM thread: tid"), table);
    LatencyChart.write(r.measurements(), options.chart());
    assertTrue(Files.size(options.chart()) > 1000);
    // This JVM may run where it could before.
    List<String> after =
        Affinity.threads((int) ProcessHandle.current().pid()).stream()
            .map(Affinity.ThreadPlace::cpus)
            .distinct()
            .toList();
    assertEquals(before, after);
  }
}
