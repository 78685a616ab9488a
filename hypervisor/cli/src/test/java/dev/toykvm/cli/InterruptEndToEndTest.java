package dev.toykvm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.images.TestKernels;
import dev.toykvm.vmm.ExitCodes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default machine's in-kernel irqchip and PIT, and {@code --no-irqchip}, through the command
 * line with real guests (the same output and status on QEMU: guest-firmware/README.md).
 */
@Tag("e2e")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class InterruptEndToEndTest {
  @TempDir Path dir;

  @Test
  void pitTickCountsTenTicksInHlt() {
    MainTest.Result r = MainTest.toykvm("run", "--timeout", "60s", "pit-tick");
    assertEquals("pit-tick: 10 ticks\n", r.out(), r.err());
    assertEquals(0, r.status(), r.err());
  }

  @Test
  void withoutTheIrqchipPitTickHaltsForGood() {
    MainTest.Result r = MainTest.toykvm("run", "--no-irqchip", "--timeout", "60s", "pit-tick");
    assertEquals(ExitCodes.HALTED, r.status(), r.err());
    assertTrue(r.err().contains("without an interrupt controller"), r.err());
  }

  @Test
  void lapicTimerKernelCountsTicksAgainstThePit() throws IOException {
    Path kernel = TestKernels.extract("lapictimer", dir);
    MainTest.Result r = MainTest.toykvm("run", "--timeout", "60s", "--kernel", kernel.toString());
    assertEquals(
        List.of(
            "lapictimer: local APIC timer ticks in hlt",
            "ok   LVT timer periodic, 0x40",
            "ok   current count counts down",
            "ok   4 ticks counted",
            "ok   hlt woken only by ticks",
            "ok   the PIT saw at least 4 periods (ticks not early)",
            "all checks passed"),
        r.out().lines().toList(),
        r.err());
    assertEquals(1, r.status(), "QEMU's isa-debug-exit: (0 << 1) | 1; stderr: " + r.err());
  }

  /** A rom64k image whose reset vector runs {@code insns} then {@code hlt}s forever. */
  private Path resetVector(int... insns) throws IOException {
    byte[] rom = new byte[0x10000];
    Arrays.fill(rom, (byte) 0xf4);
    for (int i = 0; i < insns.length; i++) {
      rom[0xfff0 + i] = (byte) insns[i];
    }
    return Files.write(dir.resolve("rom.bin"), rom);
  }

  @Test
  void hltWithInterruptsDisabledEndsTheVmAtOnce() throws IOException {
    Path image = resetVector(0xfa); // cli; hlt
    MainTest.Result r = MainTest.toykvm("run", "--timeout", "60s", image.toString());
    assertEquals(ExitCodes.HALTED, r.status(), r.err());
    assertTrue(r.err().contains("interrupts disabled at rip=0xfff2"), r.err());
  }

  @Test
  void onSeveralVcpusTheMessageSaysWhereEachOneStopped() throws IOException {
    Path image = resetVector(0xfa); // cli; hlt on the BSP; the AP never gets its INIT and SIPI
    MainTest.Result r = MainTest.toykvm("run", "--timeout", "60s", "--cpus", "2", image.toString());
    assertEquals(ExitCodes.HALTED, r.status(), r.err());
    assertTrue(r.err().contains("interrupts disabled at rip=0xfff2"), r.err());
    assertTrue(
        r.err().contains("vcpu0 halted at rip=0xfff2 (IF=0), vcpu1 waits for INIT and SIPI"),
        r.err());
  }

  @Test
  void hltWithInterruptsEnabledWaitsUntilTheTimeout() throws IOException {
    Path image = resetVector(0xfb); // sti; hlt: an interrupt could come, as on a PC
    MainTest.Result r = MainTest.toykvm("run", "--timeout", "1s", image.toString());
    assertEquals(ExitCodes.TIMEOUT, r.status(), r.err());
  }
}
