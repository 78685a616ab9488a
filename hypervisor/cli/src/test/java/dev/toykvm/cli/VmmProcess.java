package dev.toykvm.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * {@code toykvm} (its {@code Main}, as the {@code ./toykvm} script {@code exec}s it) in a child JVM
 * on the test class path: a real separate process a test can SIGKILL, whose device processes are
 * its own children. Its stdout (COM1) and stderr are collected line by line as they come, so a test
 * can wait for a line the guest prints.
 */
final class VmmProcess implements AutoCloseable {
  final Process process;
  final List<String> out = new CopyOnWriteArrayList<>();
  final List<String> err = new CopyOnWriteArrayList<>();
  private final Thread outReader;
  private final Thread errReader;

  private VmmProcess(Process process) {
    this.process = process;
    this.outReader =
        Thread.ofPlatform().daemon().start(() -> collect(process.getInputStream(), out));
    this.errReader =
        Thread.ofPlatform().daemon().start(() -> collect(process.getErrorStream(), err));
  }

  /** Starts {@code toykvm ARGS...}. */
  static VmmProcess start(String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElseThrow());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(List.of(args));
    return new VmmProcess(new ProcessBuilder(cmd).start());
  }

  private static void collect(InputStream s, List<String> lines) {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(s, StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        lines.add(line.strip());
      }
    } catch (IOException e) {
      lines.add("(cannot read: " + e + ")");
    }
  }

  /** Whether the guest has printed {@code line} on COM1. */
  boolean printed(String line) {
    return out.contains(line);
  }

  /** The device processes it started (the JVMs running {@code DeviceMain KIND}). */
  List<ProcessHandle> devices() {
    return process
        .toHandle()
        .descendants()
        .filter(p -> p.info().commandLine().orElse("").contains("DeviceMain"))
        .toList();
  }

  /** The device process running {@code DeviceMain kind}, if it is there yet. */
  ProcessHandle device(String kind) {
    return devices().stream()
        .filter(p -> p.info().commandLine().orElse("").contains("DeviceMain " + kind + " "))
        .findFirst()
        .orElse(null);
  }

  /** Waits for the end of the process and of its output; its exit status. */
  int waitFor(long seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      throw new AssertionError("toykvm still runs after " + seconds + " s; " + this);
    }
    outReader.join(10_000);
    errReader.join(10_000);
    return process.exitValue();
  }

  @Override
  public String toString() {
    return "stdout: " + String.join("\n", out) + "\nstderr: " + String.join("\n", err);
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
