package dev.toykvm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code toykvm bench guest-speed}: a small run prints the table; the quick mode prints every
 * interrupt latency row (sources, waits, floors) with where it ran; bad options are usage errors.
 * No timing is asserted.
 */
@Tag("e2e")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class GuestSpeedCommandTest {

  @Test
  void aSmallRunPrintsBothWorkloadsAgainstBareUnicorn() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        Main.execute(
            new String[] {
              "bench",
              "guest-speed",
              "--iterations",
              "100000",
              "--rounds",
              "20",
              "--runs",
              "1",
              "--irq-samples",
              "0"
            },
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    String o = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
    assertTrue(o.contains("| tight loop (add/dec/jnz, real mode) | 100,000 |"), o);
    assertTrue(o.contains("| mix (loads over 4 MiB"), o);
    assertTrue(o.contains("where (tight): bench thread and vCPU engine on cpu"), o);
    assertFalse(o.contains("interrupt latency"), o); // --irq-samples 0
  }

  @Test
  void theQuickModePrintsEveryInterruptRow() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        Main.execute(
            new String[] {"bench", "guest-speed", "--quick", "--workload", "tight", "--runs", "1"},
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    String o = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
    assertTrue(o.contains("interrupt latency: signal (KVM_IRQ_LINE"), o);
    assertTrue(o.contains("50 samples per row after 10 warm-up"), o);
    for (String waits : new String[] {"busy loop", "hlt"}) {
      for (String source :
          new String[] {
            "KVM_IRQ_LINE, thread",
            "irqfd edge, thread",
            "irqfd edge, device process",
            "irqfd level (resample), thread",
            "irqfd level (resample), device process"
          }) {
        assertTrue(o.contains("| " + source + " | " + waits + " | "), source + ", " + waits + o);
        assertTrue(o.contains("where (" + source + ", " + waits + "): VMM thread"), o);
      }
    }
    assertTrue(o.contains("| floor: eventfd write -> a thread's poll() returns, same CPU |"), o);
    assertTrue(o.contains("| floor: eventfd write -> a thread's poll() returns, across CPUs |"), o);
    assertTrue(o.contains("| floor: run() -> out exit -> run() returns (round trip) |"), o);
    assertTrue(o.contains("| floor: kick() -> run() returns KVM_EXIT_INTR | hlt |"), o);
    assertTrue(o.contains("| floor: run() -> KVM_INTERRUPT delivered"), o);
    assertTrue(o.contains("writer: device process pid "), o);
    assertEquals(
        0,
        ProcessHandle.current()
            .descendants()
            .filter(p -> p.info().commandLine().orElse("").contains("IrqDeviceMain"))
            .count(),
        "a device process outlived its row");
    assertEquals(
        16, o.lines().filter(l -> l.matches("\\| (KVM_IRQ_LINE|irqfd|floor).*")).count(), o);
  }

  @Test
  void negativeInterruptSamplesAreAUsageError() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        Main.execute(
            new String[] {"bench", "guest-speed", "--irq-samples", "-1"},
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(64, status);
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("--irq-samples is 0 to 1000000"));
  }

  @Test
  void anUnknownWorkloadIsAUsageError() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        Main.execute(
            new String[] {"bench", "guest-speed", "--workload", "sideways"},
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(64, status);
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("--workload is tight or mix"));
  }
}
