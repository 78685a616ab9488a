package dev.toykvm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code toykvm bench guest-speed}: a small run prints the table and the interrupt latency; bad
 * options are usage errors.
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
              "20"
            },
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    String o = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
    assertTrue(o.contains("| tight loop (add/dec/jnz, real mode) | 100,000 |"), o);
    assertTrue(o.contains("| mix (loads over 4 MiB"), o);
    assertTrue(o.contains("where (tight): bench thread and vCPU engine on cpu"), o);
    assertTrue(o.contains("interrupt latency (KVM_IRQ_LINE from another thread"), o);
    assertTrue(o.contains("20 samples: median"), o);
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
