package dev.toykvm.bench;

import dev.toykvm.vmm.DeviceSpec;
import dev.toykvm.vmm.ExitCodes;
import dev.toykvm.vmm.ImageException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code toykvm bench nvme}: the NVMe controller on every route, 4 KiB random reads. */
@Command(
    name = "nvme",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Boots nvmetest in bench mode with an NVMe controller over a temporary 64 MiB disk file"
          + " (filled, so in the page cache) on each route: ioregionfd (its own process, the"
          + " kernel side sends it BAR0's accesses, doorbells as posted writes), vmm (its own"
          + " process, every access through the VMM) and in-process (the model in the VMM). The"
          + " guest does 4 KiB random reads on one I/O queue, first one at a time (QD1, each timed"
          + " with rdtsc), then with --qd outstanding, waiting for completions by polling or in hlt"
          + " until the interrupt. Reports the QD1 median, p99 and IOPS, the deeper queue's IOPS,"
          + " the ratios between the routes and where every thread and process ran.",
      "",
      "Placements: same-cpu (this JVM and the device process on one CPU) and different-cpus"
          + " (the device process on another). Table on stdout, progress on stderr, chart as PNG.",
      ""
    },
    footer = {
      "",
      "Examples:",
      "  toykvm bench nvme                        every route x placement x irq=msix,poll",
      "  toykvm bench nvme --quick                a few hundred reads, same-cpu only",
      "  toykvm bench nvme --route ioregionfd --irq msix --placement same-cpu --count 50000"
    })
public final class NvmeBenchCommand implements Callable<Integer> {
  private final PrintStream out;
  private final PrintStream err;

  @Spec CommandSpec spec;

  @Option(
      names = "--quick",
      description = "A smoke run: 300 reads at QD1 after 50, 1200 at depth qd, same-cpu only.")
  boolean quick;

  @Option(
      names = "--count",
      paramLabel = "N",
      description = "Reads timed at QD1 per row (default 20000; --quick 300).")
  Long count;

  @Option(
      names = "--warmup",
      paramLabel = "N",
      description =
          "Unmeasured reads before them (default 20000, so that the device JVM's JIT has"
              + " compiled the model's hot paths; --quick 50).")
  Long warmup;

  @Option(
      names = "--qd",
      paramLabel = "N",
      defaultValue = "16",
      description = "The deeper queue depth, 2-63. Default: ${DEFAULT-VALUE}.")
  int qd;

  @Option(
      names = "--qd-count",
      paramLabel = "N",
      description = "Reads at the deeper depth (default 4 x --count).")
  Long qdCount;

  @Option(
      names = "--route",
      paramLabel = "ROUTE",
      description = "Only this route (repeatable): ioregionfd, vmm, in-process.")
  List<String> routes = new ArrayList<>();

  @Option(
      names = "--placement",
      paramLabel = "WHERE",
      description = "same-cpu, different-cpus or both (default both; --quick same-cpu).")
  String placement;

  @Option(
      names = "--irq",
      paramLabel = "MODE",
      description =
          "Only this completion mode (repeatable): poll, msix, intx. Default: msix, poll.")
  List<String> irqs = new ArrayList<>();

  @Option(
      names = "--cq-doorbell",
      paramLabel = "WHEN",
      defaultValue = "eager",
      description =
          "When the guest rings a completion queue's head doorbell: eager (after each completion"
              + " it reaps, as Linux's driver does) or deferred (with the next submission's SQ"
              + " tail doorbell, so that the two go to the device as one posted batch; not with"
              + " --irq intx). Default: ${DEFAULT-VALUE}.")
  String cqDoorbell;

  @Option(
      names = "--cpus",
      paramLabel = "A,B",
      description =
          "This JVM's CPU and the device's CPU for different-cpus (same-cpu uses A)."
              + " Default: the first two CPUs this process may use.")
  String cpus;

  @Option(
      names = "--chart",
      paramLabel = "PNG",
      defaultValue = "toykvm-bench-nvme.png",
      description = "Where to write the chart. Default: ${DEFAULT-VALUE}.")
  Path chart;

  public NvmeBenchCommand(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  @Override
  public Integer call() {
    NvmeBenchOptions options;
    try {
      options = options();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    try {
      NvmeBenchmark.Results results = NvmeBenchmark.run(options, err::println);
      out.print(NvmeReport.render(results));
      if (options.chart() != null) {
        LatencyChart.write(
            results.rows().stream().map(NvmeBenchmark.Row::qd1).toList(), options.chart());
        out.println();
        out.println("chart: " + options.chart().toAbsolutePath());
      }
      out.flush();
      if (!results.failures().isEmpty()) {
        err.println("toykvm: " + results.failures().size() + " row(s) could not be measured");
        return ExitCodes.HYPERVISOR;
      }
      return ExitCodes.SUCCESS;
    } catch (ImageException e) {
      err.println("toykvm: " + e.getMessage());
      return ExitCodes.IMAGE;
    } catch (BenchException | UncheckedIOException e) {
      err.println("toykvm: " + e.getMessage());
      return ExitCodes.HYPERVISOR;
    } catch (IOException e) {
      err.println("toykvm: cannot write the chart " + options.chart() + ": " + e.getMessage());
      return ExitCodes.HYPERVISOR;
    }
  }

  NvmeBenchOptions options() {
    List<Placement> placements = Placement.choose(cpus, placement, quick, err);
    List<DeviceSpec.Route> rs =
        routes.isEmpty()
            ? List.of(DeviceSpec.Route.values())
            : routes.stream().map(Routes::parse).distinct().toList();
    List<NvmeIrq> ms =
        irqs.isEmpty()
            ? List.of(NvmeIrq.MSIX, NvmeIrq.POLL)
            : irqs.stream().map(NvmeIrq::parse).distinct().toList();
    long n = count != null ? count : quick ? 300 : 20_000;
    return new NvmeBenchOptions(
        n,
        warmup != null ? warmup : quick ? 50 : 20000,
        qd,
        qdCount != null ? qdCount : 4 * n,
        placements,
        rs,
        ms,
        deferred(cqDoorbell),
        chart);
  }

  private static boolean deferred(String when) {
    return switch (when) {
      case "eager" -> false;
      case "deferred" -> true;
      default ->
          throw new IllegalArgumentException(
              "unknown --cq-doorbell '" + when + "': eager or deferred");
    };
  }
}
