package dev.toykvm.bench;

import dev.toykvm.devices.BusDevice;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.posix.Affinity;
import dev.toykvm.posix.Processes;
import dev.toykvm.vmm.DeviceSpec;
import dev.toykvm.vmm.GuestImage;
import dev.toykvm.vmm.Machine;
import dev.toykvm.vmm.MachineConfig;
import dev.toykvm.vmm.VmOutcome;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * One run of the {@code bench} guest image: the test device on one route, one access kind, in one
 * placement.
 *
 * <p>The guest reads its orders from a parameter block at guest-physical {@value #PARAMS_GPA}
 * (little-endian):
 *
 * <pre>
 * +0  u32 magic 0x4e424b54       +4  u32 kind (0 MMIO read, 1 MMIO write, 2 PIO in, 3 PIO out)
 * +8  u32 size (1, 2, 4, 8)      +12 u32 flags (bit 0: time only the loop, no per-access deltas)
 * +16 u64 count                  +24 u64 warmup
 * +32 u64 target (address/port)  +40 u64 results: where the guest stores count u32 TSC deltas
 * +48 u64 tsc_start (guest)      +56 u64 tsc_end (guest)
 * +64 u64 value (what writes write)
 * </pre>
 *
 * <p>It does the warm-up, stores {@code tsc_start}, writes 1 to port {@value #MARKER_PORT}, runs
 * the measured loop ({@code rdtsc} before and after each access), stores {@code tsc_end}, writes 2
 * to the same port, prints {@code bench: done} on COM1 and exits with status 0.
 *
 * <p>The guest's TSC is turned into nanoseconds with the two markers: the VMM notes {@link
 * System#nanoTime()} when each marker's exit reaches it. Both exits take the same path, so their
 * delay mostly cancels out of the difference; it does not when the device still drains a backlog of
 * posted writes at one marker, which is why {@link Benchmark} converts with the median rate of all
 * its runs (the TSC is invariant).
 */
final class GuestBench {
  private GuestBench() {}

  static final long PARAMS_GPA = 0x9000;
  static final int MAGIC = 0x4e42_4b54;
  static final int FLAG_LOOP_ONLY = 1;
  static final int MARKER_PORT = 0xf0;

  /** The deltas go to RAM from 1 MiB up. */
  static final long RESULTS_GPA = 0x10_0000;

  /** What the guest writes on the write kinds. */
  static final long WRITE_VALUE = 0x5a5a_5a5a_5a5a_5a5aL;

  private static final ValueLayout.OfInt U32 =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong U64 =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  /**
   * What one run measured, in guest TSC ticks.
   *
   * @param ticks per-access latency in ticks (empty with {@code loopOnly})
   * @param loopTicks the measured loop, tsc_end - tsc_start
   * @param count the accesses in the loop
   * @param ticksPerNs the guest TSC's rate according to this run's two markers
   * @param placement where each thread and process was allowed to run
   */
  record Run(Histogram ticks, long loopTicks, long count, double ticksPerNs, String placement) {

    /** The latencies in nanoseconds, at {@code ticksPerNs}. */
    Histogram latencies(double ticksPerNs) {
      Histogram ns = Measurement.newHistogram();
      for (HistogramIterationValue v : ticks.recordedValues()) {
        ns.recordValueWithCount(
            Math.max(1, Math.round(v.getValueIteratedTo() / ticksPerNs)),
            v.getCountAtValueIteratedTo());
      }
      return ns;
    }

    /** Accesses per second over the loop, at {@code ticksPerNs}. */
    double perSecond(double ticksPerNs) {
      return count / (loopTicks / ticksPerNs / 1e9);
    }
  }

  /** Notes when the guest passes each marker. */
  private static final class Markers implements BusDevice {
    volatile long start;
    volatile long end;

    @Override
    public long read(long offset, int size) {
      return 0;
    }

    @Override
    public void write(long offset, int size, long value) {
      long now = System.nanoTime();
      if (value == 1) {
        start = now;
      } else if (value == 2) {
        end = now;
      }
    }
  }

  /**
   * Posted writes are some 100 times faster than the other kinds, so the same number of warm-up
   * accesses lasts only milliseconds: too short for the device JVM's JIT to compile its server loop
   * (measured: 0.65-0.73 M/s after 20 000 warm-up writes, 1.78 M/s after 100 000). They get ten
   * times the warm-up, which still takes less time than the others'.
   */
  static final int POSTED_WARMUP_FACTOR = 10;

  static long warmupFor(AccessKind kind, long warmup) {
    return kind.posted() ? warmup * POSTED_WARMUP_FACTOR : warmup;
  }

  /**
   * Boots the bench image with the test device on {@code route} and measures {@code count} accesses
   * of {@code kind} after {@code warmup} unmeasured ones.
   *
   * @param loopOnly time only the whole loop (for throughput without the per-access timing)
   * @throws BenchException if the guest or the device does not do its part
   */
  static Run run(
      Kvm kvm,
      GuestImage image,
      Placement placement,
      DeviceSpec.Route route,
      AccessKind kind,
      int size,
      long count,
      long warmup,
      boolean loopOnly,
      Consumer<String> progress) {
    int self = Processes.getpid();
    Affinity.pinProcess(self, Affinity.cpu(placement.vmmCpu()));
    long memory = memoryFor(count);
    MachineConfig config =
        new MachineConfig(
            memory,
            false,
            Optional.of(Duration.ofSeconds(60).plus(Duration.ofMillis(count))),
            List.of(kind.device(route)),
            DeviceSpec.Route.IN_PROCESS);
    ByteArrayOutputStream serial = new ByteArrayOutputStream();
    Markers markers = new Markers();
    String what = Routes.label(route) + " " + kind.label() + (loopOnly ? " (loop only)" : "");
    try (Machine machine = Machine.create(kvm, config, image, serial, null)) {
      // The engine thread and the device spawner were started by pinned threads; the device
      // process starts where the spawner runs and is moved now that it serves.
      Affinity.pinProcess(self, Affinity.cpu(placement.vmmCpu()));
      for (int pid : machine.devicePids()) {
        Affinity.pinProcess(pid, Affinity.cpu(placement.deviceCpu()));
      }
      machine.pioBus().insert("bench-markers", MARKER_PORT, 1, markers);
      MemorySegment ram = machine.ram();
      writeParams(ram, kind, size, count, warmupFor(kind, warmup), loopOnly);
      String where = describe(self, machine.devicePids());
      VmOutcome outcome = machine.run();
      String out = serial.toString(StandardCharsets.ISO_8859_1);
      if (outcome.exitCode() != 0 || !out.contains("bench: done")) {
        throw new BenchException(
            "cannot measure "
                + what
                + ": the guest ended with '"
                + outcome.message()
                + "' (status "
                + outcome.exitCode()
                + "), serial output '"
                + out.strip()
                + "'");
      }
      long tscStart = ram.get(U64, PARAMS_GPA + 48);
      long tscEnd = ram.get(U64, PARAMS_GPA + 56);
      long ticks = tscEnd - tscStart;
      long nanos = markers.end - markers.start;
      if (ticks <= 0 || markers.start == 0 || markers.end == 0 || nanos <= 0) {
        throw new BenchException(
            String.format(
                "cannot calibrate the TSC for %s: tsc_start %d, tsc_end %d, markers at %d and %d ns",
                what, tscStart, tscEnd, markers.start, markers.end));
      }
      double ticksPerNs = (double) ticks / nanos;
      Histogram h = new Histogram(3);
      if (!loopOnly) {
        for (long i = 0; i < count; i++) {
          h.recordValue(Math.max(1, Integer.toUnsignedLong(ram.get(U32, RESULTS_GPA + 4 * i))));
        }
      }
      Run run = new Run(h, ticks, count, ticksPerNs, where);
      progress.accept(
          String.format(
              "  %-36s %s; median %.2f us, %.0f/s (TSC %.3f GHz by this run's markers)",
              what,
              placement.name(),
              loopOnly ? Double.NaN : run.latencies(ticksPerNs).getValueAtPercentile(50) / 1000.0,
              run.perSecond(ticksPerNs),
              ticksPerNs));
      return run;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create guest memory for " + what, e);
    }
  }

  /** 16 MiB, or enough for the deltas above 1 MiB. */
  static long memoryFor(long count) {
    long need = RESULTS_GPA + 4 * count + (1 << 20);
    long rounded = (need + 0xfff) & ~0xfffL;
    return Math.max(16L << 20, rounded);
  }

  static void writeParams(
      MemorySegment ram, AccessKind kind, int size, long count, long warmup, boolean loopOnly) {
    long p = PARAMS_GPA;
    ram.set(U32, p, MAGIC);
    ram.set(U32, p + 4, kind.guestCode());
    ram.set(U32, p + 8, size);
    ram.set(U32, p + 12, loopOnly ? FLAG_LOOP_ONLY : 0);
    ram.set(U64, p + 16, count);
    ram.set(U64, p + 24, warmup);
    ram.set(U64, p + 32, kind.target());
    ram.set(U64, p + 40, RESULTS_GPA);
    ram.set(U64, p + 48, 0L);
    ram.set(U64, p + 56, 0L);
    ram.set(U64, p + 64, WRITE_VALUE);
  }

  /** Where the VMM thread, the vCPU engine thread, the rest of this JVM and the devices run. */
  static String describe(int self, List<Integer> devices) {
    StringBuilder b = new StringBuilder();
    b.append("VMM thread: tid ")
        .append(Processes.gettid())
        .append(", CPU ")
        .append(
            Affinity.threads(self).stream()
                .filter(t -> t.tid() == Processes.gettid())
                .map(Affinity.ThreadPlace::cpus)
                .findFirst()
                .orElse("?"))
        .append("; vCPU engine thread: ")
        .append(Affinity.threadPlace(self, "vcpu0-engine"))
        .append("; this JVM (pid ")
        .append(self)
        .append("): ")
        .append(Affinity.summary(self));
    for (int pid : devices) {
      b.append("; device JVM (pid ").append(pid).append("): ").append(Affinity.summary(pid));
    }
    return b.toString();
  }
}
