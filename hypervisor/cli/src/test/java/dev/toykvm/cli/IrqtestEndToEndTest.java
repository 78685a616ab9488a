package dev.toykvm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.images.TestKernels;
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
 * {@code toykvm run --kernel irqtest.elf} with the test device in its own process: a level line
 * held raised comes again after each EOI (irqfd resample) until the device lowers it, an edge pulse
 * is one interrupt, and the device's edge line on GSI 24, routed as an MSI by {@code msi=}, reaches
 * the local APIC. Every wait in the guest is bounded by its local APIC timer, so a lost interrupt
 * is a FAIL line, not a hang.
 */
@Tag("e2e")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class IrqtestEndToEndTest {
  @TempDir Path dir;

  /** The controllers' part: the same lines on QEMU but for the I/O APIC version (QEMU's 0x20). */
  static final List<String> CONTROLLERS =
      List.of(
          "irqtest: device interrupts through the I/O APIC and as an MSI",
          "local APIC version 0x00000014, I/O APIC version 0x00000011",
          "ok   local APIC ID 0",
          "ok   local APIC: integrated (version 0x1X), at least 5 LVT entries",
          "ok   I/O APIC: 24 redirection entries",
          "ok   I/O APIC ID 0",
          "ok   redirection entry 10 reads back (masked, level, vector 0x50)",
          "ok   redirection entry 11: no Remote IRR, not pending");

  static final List<String> DEVICE =
      List.of(
          "ok   the test device answers at 0xfeb00000",
          "(a) level-triggered I/O APIC pin 10, the device's line held raised",
          "ok   the device holds GSI 10 raised",
          "ok   the level interrupt arrived",
          "ok   the line still raised: each EOI brings it again",
          "ok   the third handler lowered the line before its EOI",
          "ok   lowered: no interrupt after the last EOI",
          "ok   Remote IRR set in every handler",
          "ok   in the ISR and TMR (level)",
          "ok   Remote IRR clear after the EOI",
          "(b) edge-triggered I/O APIC pin 11, one pulse",
          "ok   the edge interrupt arrived",
          "ok   one pulse, one interrupt",
          "ok   edge: no Remote IRR, not in the TMR",
          "(c) MSI: GSI 24 routed to APIC 0, vector 0x61",
          "ok   three pulses: each MSI arrived",
          "ok   three MSIs counted, no more",
          "ok   vector 0x61 in the local APIC's ISR (edge)",
          "ok   an MSI to APIC ID 1 does not reach APIC 0",
          "all checks passed");

  @ParameterizedTest(name = "route={0}")
  @ValueSource(strings = {"ioregionfd", "vmm"})
  void levelWithResampleEdgeAndMsiFromTheDeviceProcess(String route) throws IOException {
    Path kernel = TestKernels.extract("irqtest", dir);
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--timeout",
            "60s",
            "--kernel",
            kernel.toString(),
            "--device",
            "testdev,mmio=0xfeb00000,size=0x1000,route="
                + route
                + ",irq=10,edge-irq=11+24+25,msi=24:0xfee00000:0x61+25:0xfee01000:0x62");
    List<String> want = new ArrayList<>(CONTROLLERS);
    want.addAll(DEVICE);
    assertEquals(want, r.out().lines().toList(), "stderr: " + r.err());
    assertEquals(1, r.status(), "QEMU's isa-debug-exit: (0 << 1) | 1; stderr: " + r.err());
  }

  /** What QEMU can run too: {@code -append nodev}. */
  @Test
  void nodevChecksTheControllersOnly() throws IOException {
    Path kernel = TestKernels.extract("irqtest", dir);
    MainTest.Result r =
        MainTest.toykvm(
            "run", "--timeout", "60s", "--kernel", kernel.toString(), "--append", "nodev");
    List<String> want = new ArrayList<>(CONTROLLERS);
    want.add("nodev: no test device, the controllers only");
    want.add("all checks passed");
    assertEquals(want, r.out().lines().toList(), "stderr: " + r.err());
    assertEquals(1, r.status(), "stderr: " + r.err());
  }

  /** A device whose GSI 24 has no MSI route: the MSI never comes, and the guest says so. */
  @Test
  void withoutTheMsiRouteTheMsiChecksFail() throws IOException {
    Path kernel = TestKernels.extract("irqtest", dir);
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--timeout",
            "60s",
            "--kernel",
            kernel.toString(),
            "--device",
            "testdev,mmio=0xfeb00000,size=0x1000,irq=10,edge-irq=11+24");
    List<String> out = r.out().lines().toList();
    assertEquals(
        List.of(
            "FAIL three pulses: each MSI arrived",
            "FAIL three MSIs counted, no more",
            "FAIL vector 0x61 in the local APIC's ISR (edge)",
            "ok   an MSI to APIC ID 1 does not reach APIC 0",
            "3 check(s) failed"),
        out.subList(out.size() - 5, out.size()),
        "stderr: " + r.err());
    assertEquals(3, r.status(), "QEMU's isa-debug-exit: (1 << 1) | 1; stderr: " + r.err());
  }
}
