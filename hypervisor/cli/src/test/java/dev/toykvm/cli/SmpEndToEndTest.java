package dev.toykvm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.images.TestKernels;
import dev.toykvm.vmm.ExitCodes;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code toykvm run --kernel smp.elf --cpus N}: the BSP starts every AP with INIT and SIPI, each
 * checks in, and each gets a fixed IPI and an NMI. The same output as {@code qemu-system-i386 -smp
 * N -kernel smp.elf -device isa-debug-exit,iobase=0xf4,iosize=1 -serial stdio}.
 */
@Tag("e2e")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SmpEndToEndTest {
  @TempDir Path dir;

  /** What smp prints with {@code n} CPUs (on QEMU too). */
  static List<String> expected(int n) {
    List<String> lines = new ArrayList<>();
    lines.add("smp: SMP test kernel");
    lines.add("ok   multiboot magic");
    lines.add("smp: " + n + " CPU(s), fw_cfg max " + n);
    lines.add("ok   fw_cfg CPU count");
    lines.add("ok   the BSP has APIC ID 0");
    if (n > 1) {
      lines.add("ok   AP 1 started by APIC ID checked in");
      lines.add("ok   every AP (re)started by all-excluding-self checked in");
      StringBuilder table = new StringBuilder("smp: check-in table:");
      for (int id = 1; id < n; id++) {
        table.append(' ').append(id).append('x').append(id == 1 ? 2 : 1);
      }
      lines.add(table.toString());
      for (int id = 1; id < n; id++) {
        lines.add("ok   AP checked in with its APIC ID");
        lines.add("ok   fixed IPI reached the AP");
        lines.add("ok   NMI reached the AP");
      }
      lines.add("ok   nothing came back to the BSP");
    }
    lines.add("all checks passed");
    return lines;
  }

  @ParameterizedTest(name = "--cpus {0}")
  @ValueSource(ints = {1, 2, 4})
  void everyApChecksInAndTakesAnIpiAndAnNmi(int n) throws IOException {
    Path kernel = TestKernels.extract("smp", dir);
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--timeout",
            "60s",
            "--cpus",
            Integer.toString(n),
            "--kernel",
            kernel.toString());
    assertEquals(expected(n), r.out().lines().toList(), "stderr: " + r.err());
    assertEquals(1, r.status(), "QEMU's isa-debug-exit: (0 << 1) | 1; stderr: " + r.err());
  }

  /**
   * Three APs at once make 100 writes and 100 reads each of one test device in its own process (or
   * in the VMM), by each route: the device sees every access once, and every read gets a value some
   * CPU wrote (no answer goes to the wrong vCPU).
   */
  @ParameterizedTest(name = "route={0}")
  @ValueSource(strings = {"ioregionfd", "vmm", "in-process"})
  void fourVcpusHammerOneDeviceByEachRoute(String route) throws IOException {
    Path kernel = TestKernels.extract("smp", dir);
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--timeout",
            "90s",
            // Three vCPUs queue for one device's pipes: the build's 1 s ioregion timeout is too
            // tight for that on a loaded 2-core machine (this test is not about stalls).
            "--device-timeout",
            "30s",
            "--cpus",
            "4",
            "--kernel",
            kernel.toString(),
            "--append",
            "hammer=100",
            "--device",
            "testdev,mmio=0xfeb00000,size=0x1000,route=" + route);
    List<String> want = new ArrayList<>(expected(4));
    want.add(want.size() - 1, "smp: 3 APs x 100 writes and reads of one test device");
    want.add(want.size() - 1, "ok   every AP finished its accesses");
    want.add(want.size() - 1, "ok   the device saw every access once");
    want.add(want.size() - 1, "ok   every read returned a value a CPU wrote");
    assertEquals(want, r.out().lines().toList(), "stderr: " + r.err());
    assertEquals(1, r.status(), "stderr: " + r.err());
  }

  @Test
  void cpusOutOfRangeIsAUsageError() {
    for (String bad : new String[] {"0", "9", "-1"}) {
      MainTest.Result r = MainTest.toykvm("run", "--cpus", bad, "hello");
      assertEquals(ExitCodes.USAGE, r.status(), bad + ": " + r.err());
      assertTrue(r.err().contains("--cpus is 1 to 8, not " + bad), r.err());
    }
    assertEquals(ExitCodes.USAGE, MainTest.toykvm("run", "--cpus", "two", "hello").status());
  }
}
