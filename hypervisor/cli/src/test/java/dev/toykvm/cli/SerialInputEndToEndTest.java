package dev.toykvm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.images.TestKernels;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The VMM's stdin reaches the guest: {@code printf 'hello\nworld\nquit\n' | toykvm run --kernel
 * echo.elf} in a child JVM (its {@code main}, which hands stdin to COM1), on both process routes.
 * echo-poll reads COM1 by polling; echo takes IRQ 4 through the in-kernel PIC, raised by the UART
 * process through its irqfd with resample (received data and character timeout interrupts).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SerialInputEndToEndTest {
  @TempDir Path dir;

  @ParameterizedTest
  @CsvSource({"echo-poll, ioregionfd", "echo-poll, vmm", "echo, ioregionfd", "echo, vmm"})
  void pipedLinesAreEchoedByTheGuest(String guest, String route) throws Exception {
    Path kernel = TestKernels.extract(guest, dir);
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElseThrow());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(
        List.of("run", "--timeout", "60s", "--com1-route", route, "--kernel", kernel.toString()));
    Process vmm = new ProcessBuilder(cmd).start();
    try {
      CompletableFuture<String> err =
          CompletableFuture.supplyAsync(() -> readAll(vmm.getErrorStream()));
      // Long lines and more than the FIFO holds at once: back-pressure must lose nothing.
      String long1 = "0123456789".repeat(11);
      try (OutputStream in = vmm.getOutputStream()) {
        in.write(("hello\nworld\n" + long1 + "\nquit\n").getBytes(StandardCharsets.US_ASCII));
      }
      String out = readAll(vmm.getInputStream());
      assertTrue(vmm.waitFor(60, TimeUnit.SECONDS));
      List<String> lines = out.lines().map(String::strip).toList();
      String first = guest.equals("echo") ? "echo: interrupt-driven" : "echo: polled;";
      assertTrue(!lines.isEmpty() && lines.get(0).startsWith(first), out + err.get());
      assertEquals(
          List.of("echo: hello", "echo: world", "echo: " + long1, "echo: quit"),
          lines.subList(1, Math.max(1, lines.size() - 1)),
          err.get());
      assertTrue(lines.getLast().startsWith("echo: bye"), out + err.get());
      assertEquals(1, vmm.exitValue(), "QEMU's isa-debug-exit: (0 << 1) | 1; " + err.get());
    } finally {
      vmm.destroyForcibly();
    }
  }

  private static String readAll(java.io.InputStream s) {
    try {
      return new String(s.readAllBytes(), StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      return "(cannot read: " + e + ")";
    }
  }
}
