package dev.toykvm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.vmm.DeviceSpec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** The options of {@code toykvm bench nvme}, parsed without running anything. */
class NvmeBenchCommandTest {
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private NvmeBenchOptions parse(String... args) {
    NvmeBenchCommand c =
        new NvmeBenchCommand(
            new PrintStream(new ByteArrayOutputStream()),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    new CommandLine(c).parseArgs(args);
    return c.options();
  }

  @Test
  void theDefaultsAreEveryRouteMsixAndPollBothPlacementsQd16() {
    NvmeBenchOptions o = parse("--cpus", "0,1");
    assertEquals(20_000, o.count());
    assertEquals(80_000, o.qdCount());
    assertEquals(16, o.qd());
    assertEquals(List.of(DeviceSpec.Route.values()), o.routes());
    assertEquals(List.of(NvmeIrq.MSIX, NvmeIrq.POLL), o.irqs());
    assertEquals(List.of(Placement.sameCpu(0), Placement.differentCpus(0, 1)), o.placements());
    assertFalse(o.deferCqDoorbell());
  }

  @Test
  void theCqDoorbellCanBeDeferredButNotWithIntx() {
    assertTrue(parse("--cpus", "0,1", "--cq-doorbell", "deferred").deferCqDoorbell());
    assertFalse(parse("--cpus", "0,1", "--cq-doorbell", "eager").deferCqDoorbell());
    IllegalArgumentException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class,
            () -> parse("--cpus", "0,1", "--cq-doorbell", "deferred", "--irq", "intx"));
    assertTrue(e.getMessage().contains("--irq intx"), e.getMessage());
  }

  @Test
  void quickIsAFewHundredReadsOnOneCpu() {
    NvmeBenchOptions o = parse("--quick", "--cpus", "0,1");
    assertEquals(300, o.count());
    assertEquals(1200, o.qdCount());
    assertEquals(List.of(Placement.sameCpu(0)), o.placements());
  }

  @Test
  void routesIrqsAndPlacementAreChosen() {
    NvmeBenchOptions o =
        parse(
            "--route",
            "vmm",
            "--irq",
            "intx",
            "--irq",
            "poll",
            "--placement",
            "different-cpus",
            "--cpus",
            "0,1",
            "--qd",
            "32",
            "--count",
            "10",
            "--qd-count",
            "7");
    assertEquals(List.of(DeviceSpec.Route.VMM), o.routes());
    assertEquals(List.of(NvmeIrq.INTX, NvmeIrq.POLL), o.irqs());
    assertEquals(List.of(Placement.differentCpus(0, 1)), o.placements());
    assertEquals(32, o.qd());
    assertEquals(7, o.qdCount());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "--qd 1",
        "--qd 64",
        "--count 0",
        "--count 4000001",
        "--irq msi",
        "--route kvm",
        "--placement nowhere",
        "--cpus 0",
        "--cpus a,b",
        "--qd-count 0",
        "--cq-doorbell later"
      })
  void badOptionsAreRefusedWithTheirName(String args) {
    IllegalArgumentException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> parse(args.split(" ")));
    String option = args.split(" ")[0];
    String word = option.equals("--qd-count") ? "depth qd" : option;
    assertTrue(
        e.getMessage().contains(word) || e.getMessage().contains(args.split(" ")[1]),
        e.getMessage());
  }
}
