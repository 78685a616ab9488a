package dev.toykvm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.toykvm.vmm.ExitCodes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Debian's memtest86+ (package {@code memtest86+}, 6.10 in bookworm), an outside program run
 * unmodified through the Linux boot protocol: its 32-bit build with the 32-bit entry and its 64-bit
 * build with the 64-bit one. It draws its screen on COM1 ({@code console=ttyS0}) with VT100
 * sequences; it tests memory until stopped, so the VM ends at {@code --timeout} and the test reads
 * the screen: the CPU it found (toykvm's brand string), the memory size, tests that completed and
 * no errors. Skipped where the package is not installed ({@code ./build test} installs it).
 */
@Tag("e2e")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MemtestEndToEndTest {
  private static final Pattern TEST = Pattern.compile("Test #(\\d+) ");
  private static final Pattern ERRORS = Pattern.compile("Errors: (\\d+)");

  @ParameterizedTest
  @CsvSource({"/boot/memtest86+ia32.bin, 32", "/boot/memtest86+x64.bin, 64"})
  void debiansMemtestRunsItsTestsWithoutErrors(String file, String entry) {
    Path kernel = Path.of(file);
    assumeTrue(Files.isReadable(kernel), "memtest86+ is not installed");
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--kernel",
            kernel.toString(),
            "--linux-entry",
            entry,
            "--append",
            "console=ttyS0,115200 nosmp nopause nobench nobigstatus",
            "--memory",
            "16M",
            "--timeout",
            "15s");
    String screen = Vt100Screen.of(r.out()).toString();
    assertEquals(ExitCodes.TIMEOUT, r.status(), "memtest never stops by itself: " + r.err());
    assertTrue(screen.contains("Memtest86+ v"), screen);
    assertTrue(screen.contains("toykvm vCPU (Unicorn TCG)"), "the CPU it found: " + screen);
    assertTrue(screen.contains("Memory  :   16MB"), screen);
    assertTrue(
        lastTest(screen) >= 1, "test #0 (walking ones over every address) completed:\n" + screen);
    assertNoErrors(screen);
  }

  /** The highest test number memtest's screen shows ("Test #N "), or -1. */
  static int lastTest(String screen) {
    int lastTest = -1;
    Matcher t = TEST.matcher(screen);
    while (t.find()) {
      lastTest = Math.max(lastTest, Integer.parseInt(t.group(1)));
    }
    return lastTest;
  }

  /** The screen shows its error count, and it is 0. */
  static void assertNoErrors(String screen) {
    Matcher e = ERRORS.matcher(screen);
    int counts = 0;
    while (e.find()) {
      counts++;
      assertEquals("0", e.group(1), "memtest found memory errors on toykvm:\n" + screen);
    }
    assertTrue(counts > 0, "the status line shows the error count: " + screen);
  }
}
