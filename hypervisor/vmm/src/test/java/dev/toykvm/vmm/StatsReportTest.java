package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.kvm.KvmStat;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatsReportTest {
  private static KvmStat stat(String name, long value) {
    return new KvmStat(name, KvmStat.Type.CUMULATIVE, KvmStat.Unit.NONE, value);
  }

  @Test
  void theVmsStatisticsComeFirstThenOneColumnPerVcpu() {
    StatsReport r =
        new StatsReport(
            List.of(stat("irqfd_injections_by_thread", 3)),
            List.of(
                List.of(stat("exits", 10), stat("io_exits", 7)),
                List.of(stat("exits", 2), stat("io_exits", 0))));
    assertEquals(
        """
        statistics (KVM_GET_STATS_FD):
          vm   irqfd_injections_by_thread            3
               statistic                         vcpu0        vcpu1
               exits                                10            2
               io_exits                              7            0
        """,
        r.render());
  }

  @Test
  void aVmWithoutVcpusHasNoTable() {
    assertEquals(
        "statistics (KVM_GET_STATS_FD):\n  vm   exits                1\n",
        new StatsReport(List.of(stat("exits", 1)), List.of()).render());
  }
}
