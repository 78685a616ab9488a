package dev.toykvm.bench;

import dev.toykvm.vmm.DeviceSpec;
import dev.toykvm.vmm.ExitCodes;
import dev.toykvm.vmm.ImageException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code toykvm bench}: the test device on every route, every access kind, in two placements,
 * beside the raw pipe floor; prints the table and writes the chart.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Measures one device (the test device) on the three routes: ioregionfd (the kernel side"
          + " talks to the device process), vmm (the access exits to the VMM, which forwards it to"
          + " the same device process) and in-process (the device object in the VMM: only the exit"
          + " hand-off). For MMIO read, MMIO write, posted MMIO write (ioregionfd only), PIO in and"
          + " PIO out, it reports the median, the p99 and the throughput per access, beside the raw"
          + " floor of the transport: a 32-byte ping-pong over pipes with a child JVM and between"
          + " two threads of this JVM.",
      "",
      "Placements: same-cpu (this JVM and the device process pinned to one CPU) and"
          + " different-cpus (this JVM on one, the device on another), with sched_setaffinity on"
          + " every thread. The table on stdout, progress on stderr, the chart as a PNG.",
      ""
    },
    footer = {
      "",
      "Examples:",
      "  toykvm bench                       the full run (a few minutes)",
      "  toykvm bench --quick               a few thousand accesses, same-cpu only (seconds)",
      "  toykvm bench --route ioregionfd --kind mmio-read --placement same-cpu",
      "  toykvm bench guest-speed            guest compute: kernel side vs bare libunicorn",
      "  toykvm bench nvme                   the NVMe controller on every route: 4 KiB reads"
    })
public final class BenchCommand implements Callable<Integer> {
  private final PrintStream out;
  private final PrintStream err;

  @Spec CommandSpec spec;

  @Option(
      names = "--quick",
      description =
          "A smoke run: 2000 accesses after 500, same-cpu only, no loop-only throughput runs.")
  boolean quick;

  @Option(
      names = "--count",
      paramLabel = "N",
      description = "Measured accesses per path (default 100000; --quick 2000).")
  Long count;

  @Option(
      names = "--warmup",
      paramLabel = "N",
      description = "Unmeasured accesses before them (default 20000; --quick 500).")
  Long warmup;

  @Option(
      names = "--size",
      paramLabel = "BYTES",
      defaultValue = "4",
      description = "Access size: 1, 2, 4 or 8 (PIO kinds are skipped at 8). Default: 4.")
  int size;

  @Option(
      names = "--placement",
      paramLabel = "WHERE",
      description = "same-cpu, different-cpus or both (default both; --quick same-cpu).")
  String placement;

  @Option(
      names = "--cpus",
      paramLabel = "A,B",
      description =
          "The CPU of this JVM and the device's CPU for different-cpus (same-cpu uses A)."
              + " Default: the first two CPUs this process may use.")
  String cpus;

  @Option(
      names = "--route",
      paramLabel = "ROUTE",
      description = "Measure only this route (repeatable): ioregionfd, vmm, in-process.")
  List<String> routes = new ArrayList<>();

  @Option(
      names = "--kind",
      paramLabel = "KIND",
      description =
          "Measure only this access kind (repeatable): mmio-read, mmio-write,"
              + " posted-mmio-write, pio-in, pio-out.")
  List<String> kinds = new ArrayList<>();

  @Option(
      names = "--throughput-runs",
      paramLabel = "WHICH",
      description =
          "Which paths run a second time timing only the loop, for the throughput column: ALL,"
              + " POSTED (posted writes; the default) or NONE (the default with --quick). The"
              + " others take it from the timed run.")
  BenchOptions.ThroughputRuns throughputRuns;

  @Option(
      names = "--chart",
      paramLabel = "PNG",
      defaultValue = "toykvm-bench.png",
      description = "Where to write the chart. Default: ${DEFAULT-VALUE}.")
  Path chart;

  @Option(
      names = "--image",
      paramLabel = "IMAGE",
      defaultValue = "bench",
      description = "The bench guest: a bundled image or a ROM file. Default: ${DEFAULT-VALUE}.")
  String image;

  public BenchCommand(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  @Override
  public Integer call() {
    BenchOptions options;
    try {
      options = options();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    try {
      Benchmark.Results results = Benchmark.run(options, err::println);
      out.print(ReportTable.render(results));
      if (options.chart() != null) {
        LatencyChart.write(results.measurements(), options.chart());
        out.println();
        out.println("chart: " + options.chart().toAbsolutePath());
      }
      out.flush();
      return ExitCodes.SUCCESS;
    } catch (ImageException e) {
      err.println("toykvm: " + e.getMessage());
      return ExitCodes.IMAGE;
    } catch (BenchException e) {
      err.println("toykvm: " + e.getMessage());
      return ExitCodes.HYPERVISOR;
    } catch (IOException e) {
      err.println("toykvm: cannot write the chart " + options.chart() + ": " + e.getMessage());
      return ExitCodes.HYPERVISOR;
    }
  }

  BenchOptions options() {
    List<Placement> placements = Placement.choose(cpus, placement, quick, err);
    List<DeviceSpec.Route> rs =
        routes.isEmpty()
            ? List.of(DeviceSpec.Route.values())
            : routes.stream().map(Routes::parse).toList();
    List<AccessKind> ks =
        kinds.isEmpty() ? List.of(AccessKind.values()) : kinds.stream().map(k -> kind(k)).toList();
    return new BenchOptions(
        image,
        count != null ? count : quick ? 2000 : 100_000,
        warmup != null ? warmup : quick ? 500 : 20_000,
        size,
        placements,
        rs,
        ks,
        throughputRuns != null
            ? throughputRuns
            : quick ? BenchOptions.ThroughputRuns.NONE : BenchOptions.ThroughputRuns.POSTED,
        chart);
  }

  private static AccessKind kind(String name) {
    try {
      return AccessKind.valueOf(name.toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown access kind '"
              + name
              + "': "
              + String.join(
                  ", ",
                  Arrays.stream(AccessKind.values())
                      .map(k -> k.name().toLowerCase(Locale.ROOT).replace('_', '-'))
                      .toList()));
    }
  }
}
