package dev.toykvm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code toykvm bench} from the command line: its quick mode and its usage errors. */
@Tag("e2e")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class BenchCommandTest {

  @Test
  void commandPrintsTheTableAndTheChartPath(@TempDir Path dir) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Path chart = dir.resolve("bench.png");
    int status =
        Main.execute(
            new String[] {
              "bench",
              "--quick",
              "--route",
              "in-process",
              "--kind",
              "pio-in",
              "--chart",
              chart.toString()
            },
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    String o = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
    assertTrue(o.contains("| same-cpu | in-process | PIO in |"), o);
    assertTrue(o.contains("| same-cpu | pipe floor, 2 JVMs | 32-byte ping-pong |"), o);
    assertTrue(o.contains("chart: " + chart.toAbsolutePath()), o);
    assertTrue(Files.exists(chart));
  }

  @Test
  void badOptionsAreUsageErrors() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        Main.execute(
            new String[] {"bench", "--quick", "--kind", "mmio-sideways"},
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(64, status);
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown access kind"));
  }
}
