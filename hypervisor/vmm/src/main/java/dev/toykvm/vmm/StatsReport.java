package dev.toykvm.vmm;

import dev.toykvm.kvm.KvmStat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A VM's statistics as {@code toykvm run --stats} prints them: the VM's own, then one column per
 * vCPU, every statistic a row ({@link dev.toykvm.kvm.VmFd#getStats()}, {@link
 * dev.toykvm.kvm.VcpuFd#getStats()}).
 *
 * @param vm the VM's statistics
 * @param vcpus each vCPU's, by vCPU number
 */
public record StatsReport(List<KvmStat> vm, List<List<KvmStat>> vcpus) {
  public StatsReport {
    vm = List.copyOf(vm);
    vcpus = vcpus.stream().map(List::copyOf).toList();
  }

  /** The report as text: a header line, the VM's statistics, then the vCPUs' table. */
  public String render() {
    StringBuilder b = new StringBuilder("statistics (KVM_GET_STATS_FD):\n");
    int width = "statistic".length();
    for (KvmStat s : vm) {
      width = Math.max(width, s.name().length());
    }
    Map<String, long[]> rows = new LinkedHashMap<>();
    for (int i = 0; i < vcpus.size(); i++) {
      for (KvmStat s : vcpus.get(i)) {
        rows.computeIfAbsent(s.name(), k -> new long[vcpus.size()])[i] = s.value();
        width = Math.max(width, s.name().length());
      }
    }
    for (KvmStat s : vm) {
      b.append(String.format(Locale.ROOT, "  vm   %-" + width + "s %12d%n", s.name(), s.value()));
    }
    if (!vcpus.isEmpty()) {
      b.append(String.format(Locale.ROOT, "       %-" + width + "s", "statistic"));
      for (int i = 0; i < vcpus.size(); i++) {
        b.append(String.format(Locale.ROOT, " %12s", "vcpu" + i));
      }
      b.append('\n');
      for (Map.Entry<String, long[]> row : rows.entrySet()) {
        b.append(String.format(Locale.ROOT, "       %-" + width + "s", row.getKey()));
        for (long v : row.getValue()) {
          b.append(String.format(Locale.ROOT, " %12d", v));
        }
        b.append('\n');
      }
    }
    return b.toString();
  }
}
