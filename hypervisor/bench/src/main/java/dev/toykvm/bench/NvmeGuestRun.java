package dev.toykvm.bench;

import dev.toykvm.devices.BusDevice;
import dev.toykvm.devices.DebugExitPort;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmStat;
import dev.toykvm.posix.Affinity;
import dev.toykvm.posix.Processes;
import dev.toykvm.vmm.DeviceSpec;
import dev.toykvm.vmm.KernelBoot;
import dev.toykvm.vmm.KernelFiles;
import dev.toykvm.vmm.Machine;
import dev.toykvm.vmm.MachineConfig;
import dev.toykvm.vmm.VmOutcome;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;

/**
 * One boot of nvmetest in bench mode ({@code guest-firmware/kernels/nvmetest-bench.c}) with the
 * NVMe controller on one route, in one placement, waiting for completions one way.
 *
 * <p>The guest leaves its results in RAM at {@value #RESULTS_GPA} (magic "NVBN", the four TSC
 * marks, a status and one u32 delta per depth-1 read from +0x100) and writes 1, 2, 3 and 4 to port
 * {@value #MARKER_PORT} around its two timed parts; a device on that port notes {@link
 * System#nanoTime()} at each, which turns the TSC into nanoseconds as {@link GuestBench} does.
 */
final class NvmeGuestRun {
  private NvmeGuestRun() {}

  static final long RESULTS_GPA = 0x100_0000;
  static final int MAGIC = 0x4e42_564e;
  static final long DELTAS_OFFSET = 0x100;
  static final int MARKER_PORT = 0xf0;

  /** The guest's RAM: 64 MiB, or enough for the deltas above 16 MiB and 1 MiB to spare. */
  static long memoryFor(long count) {
    long need = RESULTS_GPA + DELTAS_OFFSET + 4 * count + (1 << 20);
    return Math.max(64L << 20, (need + 0xf_ffff) & ~0xf_ffffL);
  }

  private static final ValueLayout.OfInt U32 =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong U64 =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  /**
   * What one boot measured, in guest TSC ticks.
   *
   * @param qd1Ticks each depth-1 read, submission to reaped completion
   * @param qd1Loop the depth-1 part, first to last read
   * @param qdLoop the depth-qd part
   * @param qd1Rate the TSC's rate (ticks per ns) by the markers around the depth-1 part
   * @param qdRate the same around the depth-qd part
   * @param exitsPerRead vCPU 0's exits to the VMM per read at depth 1 ({@code KVM_GET_STATS_FD})
   * @param batchesPerRead its posted-write batches per read at depth 1 (doorbell wake-ups)
   * @param placement where each thread and process was allowed to run
   */
  record Run(
      Histogram qd1Ticks,
      long qd1Loop,
      long qdLoop,
      double qd1Rate,
      double qdRate,
      double exitsPerRead,
      double batchesPerRead,
      String placement) {}

  /**
   * Notes when the guest passes each of its four markers, and vCPU 0's exits and posted batches so
   * far ({@code KVM_GET_STATS_FD}) at each.
   */
  private static final class Markers implements BusDevice {
    final long[] at = new long[5];
    final long[] exits = new long[5];
    final long[] batches = new long[5];
    volatile Machine machine;

    @Override
    public long read(long offset, int size) {
      return 0;
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
      if (value >= 1 && value <= 4) {
        at[(int) value] = System.nanoTime();
        Machine m = machine;
        if (m != null) {
          List<KvmStat> stats = m.stats().vcpus().getFirst();
          exits[(int) value] = KvmStat.find(stats, "exits").orElse(0L);
          batches[(int) value] = KvmStat.find(stats, "ioregionfd_posted_batches").orElse(0L);
        }
      }
    }

    synchronized long between(int from, int to) {
      return at[from] == 0 || at[to] == 0 ? 0 : at[to] - at[from];
    }
  }

  /**
   * Boots {@code kernel} (nvmetest) with {@code disk} as an NVMe controller on {@code route}.
   *
   * @throws BenchException if the guest does not finish its reads or leaves no valid results
   */
  static Run run(
      Kvm kvm,
      Path kernel,
      Path disk,
      Placement placement,
      DeviceSpec.Route route,
      NvmeIrq irq,
      NvmeBenchOptions o,
      Consumer<String> progress) {
    String what = Routes.label(route) + ", irq=" + irq.label() + ", " + placement.name();
    int self = Processes.getpid();
    Affinity.pinProcess(self, Affinity.cpu(placement.vmmCpu()));
    long memory = memoryFor(o.count());
    String append =
        String.format(
                "irq=%s bench count=%d warmup=%d qd=%d qd_count=%d",
                irq.label(), o.count(), o.warmup(), o.qd(), o.qdCount())
            + (o.deferCqDoorbell() ? " cq_doorbell=deferred" : "");
    KernelBoot boot =
        KernelFiles.load(
            kernel, append, null, memory, DebugExitPort.Mode.QEMU, OutputStream.nullOutputStream());
    MachineConfig config =
        new MachineConfig(
            memory,
            false,
            Optional.of(Duration.ofSeconds(60).plusMillis(2 * (o.count() + o.qdCount()))),
            List.of(
                DeviceSpec.parse("nvme,disk=" + disk + ",queues=1,route=" + Routes.label(route))),
            DeviceSpec.Route.IN_PROCESS);
    ByteArrayOutputStream serial = new ByteArrayOutputStream();
    Markers markers = new Markers();
    try (Machine machine = Machine.boot(kvm, config, boot, serial, null)) {
      // As GuestBench: the engine thread and the device spawner were started by pinned threads;
      // the device process starts where the spawner runs and is moved now that it serves.
      Affinity.pinProcess(self, Affinity.cpu(placement.vmmCpu()));
      for (int pid : machine.devicePids()) {
        Affinity.pinProcess(pid, Affinity.cpu(placement.deviceCpu()));
      }
      machine.pioBus().insert("bench-markers", MARKER_PORT, 1, markers);
      markers.machine = machine;
      String where = describe(self, machine.devicePids());
      VmOutcome outcome = machine.run();
      String out = serial.toString(StandardCharsets.ISO_8859_1).replace("\r", "");
      if (!(outcome instanceof VmOutcome.GuestExited(int status) && status == 1)
          || !out.contains("nvmetest: PASS")) {
        throw new BenchException(
            "cannot measure "
                + what
                + ": the guest ended with '"
                + outcome.message()
                + "', serial output ending '"
                + tail(out)
                + "'");
      }
      Run run = results(machine.ram(), o, markers, where, what);
      progress.accept(
          String.format(
              "  %-40s QD1 median %.2f us; QD%d %.0f IOPS (TSC %.3f GHz by this run's markers)",
              what,
              run.qd1Ticks().getValueAtPercentile(50) / run.qd1Rate() / 1000.0,
              o.qd(),
              o.qdCount() / (run.qdLoop() / run.qdRate() / 1e9),
              run.qd1Rate()));
      return run;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create guest memory for " + what, e);
    }
  }

  private static Run results(
      MemorySegment ram, NvmeBenchOptions o, Markers markers, String where, String what) {
    long r = RESULTS_GPA;
    int magic = ram.get(U32, r);
    int status = ram.get(U32, r + 48);
    if (magic != MAGIC
        || ram.get(U32, r + 4) != (int) o.count()
        || ram.get(U32, r + 8) != o.qd()
        || status != 0) {
      throw new BenchException(
          String.format(
              "cannot read the results of %s: magic 0x%08x (want 0x%08x), count %d, qd %d,"
                  + " status 0x%x",
              what,
              magic,
              MAGIC,
              Integer.toUnsignedLong(ram.get(U32, r + 4)),
              ram.get(U32, r + 8),
              status));
    }
    long qd1Loop = ram.get(U64, r + 24) - ram.get(U64, r + 16);
    long qdLoop = ram.get(U64, r + 40) - ram.get(U64, r + 32);
    long qd1Nanos = markers.between(1, 2);
    long qdNanos = markers.between(3, 4);
    if (qd1Loop <= 0 || qdLoop <= 0 || qd1Nanos <= 0 || qdNanos <= 0) {
      throw new BenchException(
          String.format(
              "cannot calibrate the TSC for %s: %d and %d ticks, %d and %d ns between the markers",
              what, qd1Loop, qdLoop, qd1Nanos, qdNanos));
    }
    Histogram h = new Histogram(3);
    for (long i = 0; i < o.count(); i++) {
      long delta = Integer.toUnsignedLong(ram.get(U32, r + DELTAS_OFFSET + 4 * i));
      h.recordValue(Math.max(1, delta));
    }
    // The exits between the markers, less the second marker's own.
    double exitsPerRead = (markers.exits[2] - markers.exits[1] - 1) / (double) o.count();
    double batchesPerRead = (markers.batches[2] - markers.batches[1]) / (double) o.count();
    return new Run(
        h,
        qd1Loop,
        qdLoop,
        (double) qd1Loop / qd1Nanos,
        (double) qdLoop / qdNanos,
        exitsPerRead,
        batchesPerRead,
        where);
  }

  /**
   * As {@link GuestBench}'s, with each device process named: the NVMe controller's and the
   * pc-testdev every {@code --kernel} machine has (idle here).
   */
  private static String describe(int self, List<Integer> devices) {
    StringBuilder b = new StringBuilder(GuestBench.describe(self, List.of()));
    for (int pid : devices) {
      b.append("; ")
          .append(isNvme(pid) ? "NVMe device JVM" : "pc-testdev JVM")
          .append(" (pid ")
          .append(pid)
          .append("): ")
          .append(Affinity.summary(pid));
    }
    return b.toString();
  }

  private static boolean isNvme(int pid) {
    try {
      byte[] cmdline = Files.readAllBytes(Path.of("/proc", Integer.toString(pid), "cmdline"));
      return new String(cmdline, StandardCharsets.ISO_8859_1).contains("\0nvme\0");
    } catch (IOException e) {
      return false;
    }
  }

  private static String tail(String out) {
    String s = out.strip();
    return s.length() <= 600 ? s : "..." + s.substring(s.length() - 600);
  }
}
