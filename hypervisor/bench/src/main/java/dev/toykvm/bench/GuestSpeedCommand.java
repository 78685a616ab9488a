package dev.toykvm.bench;

import dev.toykvm.posix.Affinity;
import dev.toykvm.vmm.ExitCodes;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code toykvm bench guest-speed}: guest compute on the kernel side against bare libunicorn. */
@Command(
    name = "guest-speed",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Runs the same guest code on bare libunicorn (uc_emu_start, no hooks) and on the whole"
          + " kernel side (VcpuFd.run() of a VM with the in-kernel irqchip and PIT), alternating,"
          + " in one process pinned to one CPU: a tight add/dec/jnz loop in real mode and a mix"
          + " of loads over 4 MiB, calls, stores and reads of an in-kernel device's port. Prints"
          + " the median and p99 of the runs of each side and the kernel side's speed relative"
          + " to bare Unicorn (100%%: as fast). Then the latency from an interrupt's signal to the"
          + " guest handler's first instruction: KVM_IRQ_LINE from another thread, an irqfd"
          + " written by a thread and by a device process, edge and level (resample), with"
          + " the vCPU busy and in hlt; and the wake-ups and exit round trip it is made of.",
      ""
    },
    footer = {
      "",
      "Examples:",
      "  toykvm bench guest-speed              200 M loop iterations, 50 000 mix rounds, 5 runs",
      "  toykvm bench guest-speed --quick      a smoke run (seconds)"
    })
public final class GuestSpeedCommand implements Callable<Integer> {
  private final PrintStream out;
  private final PrintStream err;

  @Spec CommandSpec spec;

  @Option(
      names = "--quick",
      description = "A smoke run: 2 M iterations, 500 rounds, 3 runs, 50 interrupts per row.")
  boolean quick;

  @Option(
      names = "--iterations",
      paramLabel = "N",
      description = "Tight-loop iterations (default 200000000; --quick 2000000).")
  Long iterations;

  @Option(
      names = "--rounds",
      paramLabel = "N",
      description = "Mix rounds of 64 inner iterations (default 50000; --quick 500).")
  Long rounds;

  @Option(
      names = "--runs",
      paramLabel = "N",
      description = "Runs of each side per workload (default 5; --quick 3).")
  Integer runs;

  @Option(
      names = "--irq-samples",
      paramLabel = "N",
      description =
          "Interrupt latency samples per row, after a tenth as many warm-up ones (default 3000;"
              + " --quick 50; 0: none).")
  Integer irqSamples;

  @Option(
      names = "--cpu",
      paramLabel = "CPU",
      description = "The CPU to pin to. Default: the first this process may use.")
  Integer cpu;

  @Option(
      names = "--java-block-hook",
      description =
          "Also run the kernel side with a Java upcall at every translation block (the kernel"
              + " parameter toykvm.kernel.blockgate=false: how it was before the native block gate).")
  boolean javaBlockHook;

  @Option(
      names = "--workload",
      paramLabel = "W",
      description = "Only this workload (repeatable): tight, mix.")
  List<String> workloads = new ArrayList<>();

  public GuestSpeedCommand(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  @Override
  public Integer call() {
    long n = iterations != null ? iterations : quick ? 2_000_000 : 200_000_000;
    long r = rounds != null ? rounds : quick ? 500 : 50_000;
    int k = runs != null ? runs : quick ? 3 : 5;
    if (n < 1 || n > 0xffff_ffffL || r < 1 || r > 0xffff_ffffL || k < 1) {
      throw new ParameterException(
          spec.commandLine(), "--iterations and --rounds are 1 to 2^32-1, --runs at least 1");
    }
    if (irqSamples != null && (irqSamples < 0 || irqSamples > 1_000_000)) {
      throw new ParameterException(spec.commandLine(), "--irq-samples is 0 to 1000000");
    }
    List<Integer> allowed = Affinity.allowedCpus(); // before this thread is pinned
    int where = cpu != null ? cpu : allowed.getFirst();
    int other = allowed.stream().filter(c -> c != where).findFirst().orElse(where);
    List<GuestSpeed.Workload> chosen = new ArrayList<>();
    for (String w : workloads.isEmpty() ? List.of("tight", "mix") : workloads) {
      switch (w) {
        case "tight" -> chosen.add(GuestSpeed.Workload.TIGHT);
        case "mix" -> chosen.add(GuestSpeed.Workload.MIX);
        default ->
            throw new ParameterException(
                spec.commandLine(), "--workload is tight or mix, not '" + w + "'");
      }
    }
    try {
      List<GuestSpeed.Result> results = new ArrayList<>();
      for (GuestSpeed.Workload w : chosen) {
        long count = w == GuestSpeed.Workload.TIGHT ? n : r;
        results.add(GuestSpeed.measure(w, count, k, where, javaBlockHook, err::println));
      }
      out.print(GuestSpeed.render(results));
      int samples = irqSamples != null ? irqSamples : quick ? 50 : 3000;
      if (samples > 0) {
        int warmup = Math.max(10, samples / 10);
        out.print(
            IrqLatencyReport.render(
                IrqLatencyReport.measure(samples, warmup, where, other, err::println),
                samples,
                warmup));
      }
      out.flush();
      return ExitCodes.SUCCESS;
    } catch (BenchException | dev.toykvm.kvm.KvmException | dev.toykvm.posix.PosixException e) {
      err.println("toykvm: " + e.getMessage());
      return ExitCodes.HYPERVISOR;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err.println("toykvm: interrupted");
      return ExitCodes.HYPERVISOR;
    }
  }
}
