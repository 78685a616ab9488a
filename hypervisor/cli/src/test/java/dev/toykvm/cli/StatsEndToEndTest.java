package dev.toykvm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.vmm.ExitCodes;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code toykvm run --stats}: the same guest, its UART reached over ioregionfd or through the VMM,
 * and the statistics say which path did the work.
 */
@Tag("e2e")
@Timeout(60)
class StatsEndToEndTest {

  @Test
  void theStatisticsShowWhichRouteServedTheUart() {
    MainTest.Result viaKernel =
        MainTest.toykvm("run", "--stats", "--com1-route", "ioregionfd", "hello");
    MainTest.Result viaVmm = MainTest.toykvm("run", "--stats", "--com1-route", "vmm", "hello");
    for (MainTest.Result r : new MainTest.Result[] {viaKernel, viaVmm}) {
      assertEquals(ExitCodes.SUCCESS, r.status(), r.err());
      assertTrue(r.out().contains("Hello from long mode"), r.out());
      assertTrue(r.err().contains("toykvm: statistics (KVM_GET_STATS_FD):"), r.err());
      assertTrue(vcpu0(r, "exits") >= vcpu0(r, "io_exits"), r.err());
    }
    int chars = "Hello from long mode\n".length();
    // Over ioregionfd the kernel side sends every UART access to the device process itself...
    assertTrue(vcpu0(viaKernel, "ioregionfd_accesses") >= chars, viaKernel.err());
    // ...through the VMM each one is an exit, and the kernel side talks to no device.
    assertEquals(0, vcpu0(viaVmm, "ioregionfd_accesses"), viaVmm.err());
    assertTrue(
        vcpu0(viaVmm, "io_exits") >= vcpu0(viaKernel, "io_exits") + chars,
        viaKernel.err() + viaVmm.err());
  }

  @Test
  void withoutTheOptionNoStatistics() {
    MainTest.Result r = MainTest.toykvm("run", "hello");
    assertEquals(ExitCodes.SUCCESS, r.status(), r.err());
    assertTrue(!r.err().contains("KVM_GET_STATS_FD"), r.err());
  }

  /** vCPU 0's value of statistic {@code name} in the report on stderr. */
  private static long vcpu0(MainTest.Result r, String name) {
    Matcher m = Pattern.compile("(?m)^\\s+" + name + "\\s+(\\d+)").matcher(r.err());
    assertTrue(m.find(), name + " not in " + r.err());
    return Long.parseLong(m.group(1));
  }
}
