package dev.toykvm.kvm;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One statistic of a VM or a vCPU, as KVM's binary statistics describe one ({@code
 * KVM_GET_STATS_FD}, Linux 5.14 and later: a {@code struct kvm_stats_desc} and its value): read
 * with {@link VmFd#getStats()} and {@link VcpuFd#getStats()}, a snapshot taken at the call.
 *
 * <p>The names follow KVM's where KVM has the statistic ({@code exits}, {@code io_exits}, {@code
 * mmio_exits}, {@code halt_exits}, {@code signal_exits}); toykvm's own are named for what they
 * count ({@code ioregionfd_posted_batches}, {@code irqfd_injections_by_halted_vcpu}, ...). Each
 * fd's list is in the same order at every call, as KVM's descriptors are.
 *
 * @param name the statistic's name ({@code kvm_stats_desc.name})
 * @param type how the value behaves ({@code KVM_STATS_TYPE_*})
 * @param unit what the value counts ({@code KVM_STATS_UNIT_*})
 * @param value its value at the call
 */
public record KvmStat(String name, Type type, Unit unit, long value) {
  /** {@code KVM_STATS_TYPE_*}. */
  public enum Type {
    /** Only grows: a count of events since the fd was made ({@code KVM_STATS_TYPE_CUMULATIVE}). */
    CUMULATIVE,
    /** A value now ({@code KVM_STATS_TYPE_INSTANT}). */
    INSTANT,
    /** The highest value seen ({@code KVM_STATS_TYPE_PEAK}). */
    PEAK
  }

  /** {@code KVM_STATS_UNIT_*}. */
  public enum Unit {
    /** A plain count ({@code KVM_STATS_UNIT_NONE}). */
    NONE,
    /** Bytes ({@code KVM_STATS_UNIT_BYTES}). */
    BYTES,
    /** Seconds ({@code KVM_STATS_UNIT_SECONDS}, with KVM's exponent: here nanoseconds). */
    SECONDS,
    /** CPU cycles ({@code KVM_STATS_UNIT_CYCLES}). */
    CYCLES
  }

  /**
   * @throws NullPointerException if a field is null
   * @throws IllegalArgumentException if the name is empty
   */
  public KvmStat {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(unit, "unit");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("a statistic needs a name");
    }
  }

  /** The value of the statistic named {@code name} in {@code stats}, if there is one. */
  public static Optional<Long> find(List<KvmStat> stats, String name) {
    return stats.stream().filter(s -> s.name().equals(name)).map(KvmStat::value).findFirst();
  }
}
