package dev.toykvm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.vmm.ExitCodes;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line in-process, for everything that needs no CPU. */
class MainTest {
  /** What one run of the CLI printed and returned. */
  record Result(int status, String out, String err) {}

  static Result toykvm(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        Main.execute(
            args,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(
        status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void helpExplainsTheCommandsAndTheExitCodes() {
    Result r = toykvm("--help");
    assertEquals(0, r.status());
    for (String s : new String[] {"run", "images", "64", "65", "66", "67", "68", "0xf4"}) {
      assertTrue(r.out().contains(s), "help mentions " + s + ":\n" + r.out());
    }
  }

  @Test
  void runHelpExplainsTheOptions() {
    Result r = toykvm("run", "--help");
    assertEquals(0, r.status());
    for (String s : new String[] {"IMAGE", "--trace", "--memory", "--timeout", "16M"}) {
      assertTrue(r.out().contains(s), "run --help mentions " + s + ":\n" + r.out());
    }
  }

  @Test
  void versionNamesToykvm() {
    Result r = toykvm("--version");
    assertEquals(0, r.status());
    assertTrue(r.out().startsWith("toykvm "), r.out());
  }

  @Test
  void noCommandIsAUsageError() {
    Result r = toykvm();
    assertEquals(ExitCodes.USAGE, r.status());
    assertTrue(r.err().contains("missing command"), r.err());
  }

  @Test
  void unknownOptionIsAUsageError() {
    Result r = toykvm("run", "--frobnicate", "hello");
    assertEquals(ExitCodes.USAGE, r.status());
    assertTrue(r.err().contains("Unknown option: '--frobnicate'"), r.err());
    assertTrue(r.err().contains("toykvm run --help"), r.err());
    assertEquals("", r.out());
  }

  @Test
  void missingImageArgumentIsAUsageError() {
    assertEquals(ExitCodes.USAGE, toykvm("run").status());
  }

  @Test
  void badMemorySizesAreUsageErrors() {
    for (String bad :
        new String[] {
          "lots", "1M", "33G", "32769M", "16777217", "5368709121", "0", "99999999999G"
        }) {
      Result r = toykvm("run", "--memory", bad, "hello");
      assertEquals(ExitCodes.USAGE, r.status(), bad + ": " + r.err());
      assertTrue(r.err().contains("--memory"), r.err());
      assertEquals(1, r.err().lines().filter(l -> l.contains("'" + bad + "'")).count(), r.err());
    }
  }

  @Test
  void memorySizesUpTo32GiBAreAccepted() throws Exception {
    assertEquals(32L << 30, new Converters.Memory().convert("32G"));
    assertEquals(5000L << 20, new Converters.Memory().convert("5000M"));
    assertEquals((3L << 30) + 4096, new Converters.Memory().convert("3145732K"));
  }

  @Test
  void badTimeoutIsAUsageError() {
    assertEquals(ExitCodes.USAGE, toykvm("run", "--timeout", "soon", "hello").status());
    assertEquals(ExitCodes.USAGE, toykvm("run", "--timeout", "0s", "hello").status());
  }

  @Test
  void missingImageFileIsAnImageError() {
    Result r = toykvm("run", "/nonexistent/rom.bin");
    assertEquals(ExitCodes.IMAGE, r.status());
    assertEquals("toykvm: cannot load image /nonexistent/rom.bin: no such file\n", r.err());
    assertEquals("", r.out());
  }

  @Test
  void unknownImageNameIsAnImageError() {
    Result r = toykvm("run", "no-such-image-anywhere");
    assertEquals(ExitCodes.IMAGE, r.status());
    assertEquals(
        "toykvm: cannot load test image no-such-image-anywhere: no such image;"
            + " known images: hello, triple-fault, real-mode-hello, pio-testdev, mmio-testdev,"
            + " bench, pit-tick\n",
        r.err());
    assertFalse(r.err().contains("Exception"), r.err());
  }

  @Test
  void wrongSizeImageIsAnImageError(@TempDir Path dir) throws Exception {
    Path rom = dir.resolve("short.bin");
    Files.write(rom, new byte[1000]);
    Result r = toykvm("run", rom.toString());
    assertEquals(ExitCodes.IMAGE, r.status());
    assertTrue(r.err().contains("size 1000 is not 65536 bytes (a rom64k image)"), r.err());
  }

  @Test
  void aDirectoryIsAnImageError(@TempDir Path dir) {
    Result r = toykvm("run", dir.toString());
    assertEquals(ExitCodes.IMAGE, r.status());
    assertTrue(r.err().contains("it is a directory"), r.err());
  }
}
