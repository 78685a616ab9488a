package dev.toykvm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.toykvm.vmm.ExitCodes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Debian's memtest86+ finds every vCPU through the MP table of a {@code --kernel} machine (it has
 * no ACPI to read), starts them with INIT and SIPI, and runs its tests on all of them in parallel
 * ("SMP: NT (PAR)"), its CPUs meeting at barriers where they wait in {@code hlt} with interrupts
 * disabled until the last one wakes them with an NMI. Without {@code nosmp}. Skipped where the
 * package is not installed.
 */
@Tag("e2e")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MemtestSmpEndToEndTest {

  @ParameterizedTest
  @ValueSource(ints = {2, 4})
  void memtestFindsAndUsesEveryVcpu(int cpus) {
    Path kernel = Path.of("/boot/memtest86+x64.bin");
    assumeTrue(Files.isReadable(kernel), "memtest86+ is not installed");
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--kernel",
            kernel.toString(),
            "--linux-entry",
            "64",
            "--cpus",
            Integer.toString(cpus),
            "--append",
            "console=ttyS0,115200 nopause nobench",
            "--memory",
            "16M",
            "--timeout",
            "20s");
    String screen = Vt100Screen.of(r.out()).toString();
    assertEquals(ExitCodes.TIMEOUT, r.status(), "memtest never stops by itself: " + r.err());
    assertTrue(screen.contains("Memtest86+ v"), screen);
    // One processor entry per vCPU; the cores of one package from CPUID leaf 0x80000008
    assertTrue(
        screen.contains("CPU: %d Cores %d Threads".formatted(cpus, cpus)),
        "one package of N cores (CPUID 0x80000008 NC), as on QEMU: " + screen);
    assertTrue(screen.contains("SMP: %dT (PAR)".formatted(cpus)), "all in parallel: " + screen);
    assertTrue(screen.contains("Using: All Cores"), screen);
    assertTrue(
        MemtestEndToEndTest.lastTest(screen) >= 1,
        "the CPUs got past test #0's barriers:\n" + screen);
    MemtestEndToEndTest.assertNoErrors(screen);
  }
}
