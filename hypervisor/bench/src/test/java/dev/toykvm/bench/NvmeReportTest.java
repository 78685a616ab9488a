package dev.toykvm.bench;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** The NVMe report from made-up rows: the ratios' arithmetic and the failures, no guest. */
class NvmeReportTest {
  private static final Placement SAME = Placement.sameCpu(0);

  private static NvmeBenchmark.Row row(String route, NvmeIrq irq, long medianNs, double iops) {
    Histogram h = Measurement.newHistogram();
    h.recordValueWithCount(medianNs, 100);
    return new NvmeBenchmark.Row(
        new Measurement(SAME, route, NvmeBenchmark.kind(irq), h, iops), irq, 2 * iops, 2, 0);
  }

  private static NvmeBenchmark.Results results(List<NvmeBenchmark.Row> rows, List<String> failed) {
    NvmeBenchOptions o =
        new NvmeBenchOptions(
            100,
            0,
            16,
            400,
            List.of(SAME),
            List.of(dev.toykvm.vmm.DeviceSpec.Route.VMM),
            List.of(NvmeIrq.MSIX),
            false,
            null);
    return new NvmeBenchmark.Results(o, rows, List.of(), failed, Map.of(), 2.5, 1);
  }

  @Test
  void ratiosAreIoregionfdOverTheOthersInTheSamePlacementAndMode() {
    String text =
        NvmeReport.ratios(
            List.of(
                row("ioregionfd", NvmeIrq.MSIX, 40_000, 15_000),
                row("vmm", NvmeIrq.MSIX, 80_000, 10_000),
                row("in-process", NvmeIrq.MSIX, 30_000, 30_000),
                row("ioregionfd", NvmeIrq.POLL, 20_000, 9_000),
                row("vmm", NvmeIrq.POLL, 30_000, 10_000)),
            16);
    // msix: 15k / 10k, 15k / 30k, median 80 / 40, QD16 the same as QD1 here.
    assertTrue(text.contains("| same-cpu | msix | 1.50 | 0.50 | 2.00 | 1.50 | 0.50 |"), text);
    // poll: no in-process row: a dash, not a made-up number.
    assertTrue(text.contains("| same-cpu | poll | 0.90 | - | 1.50 | 0.90 | - |"), text);
    assertTrue(text.contains("irq=msix: ioregionfd 1.50x the vmm route's QD1 IOPS"), text);
    assertTrue(text.contains("(target 1.5x): met"), text);
    assertTrue(
        text.contains("irq=poll: ioregionfd 0.90x the vmm route's QD1 IOPS (target 1.5x): NOT met"),
        text);
  }

  @Test
  void failedRowsAreListedAndTheOthersStillShown() {
    String text =
        NvmeReport.render(
            results(
                List.of(row("ioregionfd", NvmeIrq.MSIX, 40_000, 15_000)),
                List.of("cannot measure vmm, irq=msix, same-cpu: the device died")));
    assertTrue(text.contains("| same-cpu | ioregionfd | msix | 40.0"), text);
    assertTrue(text.contains("NOT measured (the rest of the run was):"), text);
    assertTrue(text.contains("- cannot measure vmm, irq=msix, same-cpu: the device died"), text);
    assertFalse(text.contains("the vmm route's QD1 IOPS"), "no target without the vmm row");
  }
}
