package dev.toykvm.kernel;

import dev.toykvm.kvm.KvmStat;
import dev.toykvm.kvm.VcpuExit;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * One vCPU's statistics ({@code KVM_GET_STATS_FD} on the vCPU fd, {@link
 * dev.toykvm.kvm.VcpuFd#getStats()}): counted where the work happens (the engine thread, the thread
 * in {@code run()}), read from any thread. The names follow KVM's where KVM has the statistic.
 */
final class VcpuStats {
  /** What a vCPU counts, in the order {@code getStats()} lists it. */
  enum Counter {
    /** Every return of {@code run()} with an exit. */
    EXITS("exits"),
    /** {@code KVM_EXIT_IO}, string I/O included. */
    IO_EXITS("io_exits"),
    /** {@code KVM_EXIT_MMIO}. */
    MMIO_EXITS("mmio_exits"),
    /** {@code KVM_EXIT_HLT}: a {@code hlt} the VMM sees (KVM's {@code halt_exits} counts more). */
    HALT_EXITS("halt_exits"),
    /** {@code KVM_EXIT_INTR}: a kick ended {@code run()}. */
    SIGNAL_EXITS("signal_exits"),
    /** {@code KVM_EXIT_IOREGIONFD_FAILURE}. */
    IOREGIONFD_FAILURE_EXITS("ioregionfd_failure_exits"),
    /** Reads and non-posted writes sent to a device over ioregionfd, each a round trip. */
    IOREGIONFD_ACCESSES("ioregionfd_accesses"),
    /** Posted writes to a device over ioregionfd. */
    POSTED_WRITES("ioregionfd_posted_writes"),
    /** Batches the posted writes went in (one {@code write(2)} each). */
    POSTED_BATCHES("ioregionfd_posted_batches"),
    /** Batches sent early because the guest looped without writing ({@code SpinWatch}). */
    POSTED_FLUSHES_AT_LOOP("ioregionfd_posted_flushes_at_loop"),
    /** Times the vCPU gave its CPU away while its guest spun after a batch ({@code SpinWatch}). */
    SPIN_YIELDS("spin_yields"),
    /** Ioeventfds signalled by the guest's writes. */
    IOEVENTFD_SIGNALS("ioeventfd_signals");

    final String statName;

    Counter(String statName) {
      this.statName = statName;
    }
  }

  private final LongAdder[] counters =
      Arrays.stream(Counter.values()).map(c -> new LongAdder()).toArray(LongAdder[]::new);

  /** Counts one {@code c}. */
  void count(Counter c) {
    counters[c.ordinal()].increment();
  }

  /** {@code c}'s value now. */
  long value(Counter c) {
    return counters[c.ordinal()].sum();
  }

  /** Counts {@code exit}, which {@code run()} returns now. */
  void exit(VcpuExit exit) {
    count(Counter.EXITS);
    switch (exit) {
      case VcpuExit.IoIn x -> count(Counter.IO_EXITS);
      case VcpuExit.IoOut x -> count(Counter.IO_EXITS);
      case VcpuExit.IoInString x -> count(Counter.IO_EXITS);
      case VcpuExit.IoOutString x -> count(Counter.IO_EXITS);
      case VcpuExit.MmioRead x -> count(Counter.MMIO_EXITS);
      case VcpuExit.MmioWrite x -> count(Counter.MMIO_EXITS);
      case VcpuExit.Hlt x -> count(Counter.HALT_EXITS);
      case VcpuExit.Intr x -> count(Counter.SIGNAL_EXITS);
      case VcpuExit.IoregionfdFailure x -> count(Counter.IOREGIONFD_FAILURE_EXITS);
      default -> {}
    }
  }

  /** The statistics now, in their fixed order. */
  List<KvmStat> snapshot() {
    return Arrays.stream(Counter.values()).map(c -> stat(c.statName, value(c))).toList();
  }

  static KvmStat stat(String name, long value) {
    return new KvmStat(name, KvmStat.Type.CUMULATIVE, KvmStat.Unit.NONE, value);
  }
}
