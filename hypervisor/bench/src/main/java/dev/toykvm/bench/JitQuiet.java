package dev.toykvm.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Waits until this JVM's JIT compiler threads are idle, so that a measured row does not share its
 * CPU with a compilation the previous step started. C2 once spent 27 s on one method of this JVM
 * (the NVMe model's driver loop, {@link NvmeModelFloor}), and the rows measured meanwhile lost
 * about half of the CPU they were pinned to.
 *
 * <p>The compiler threads are hidden from {@code ThreadMXBean}, so their CPU time is read from
 * {@code /proc/self/task/TID/stat} (threads named "C1 CompilerThre..." and "C2 CompilerThre...").
 * The JIT counts as quiet once they used less than {@link #BUSY_TICKS} clock ticks over {@link
 * #WINDOW_MS}.
 */
final class JitQuiet {
  private JitQuiet() {}

  static final long WINDOW_MS = 250;
  static final long BUSY_TICKS = 2;

  /**
   * Waits at most {@code maxMs} for a quiet JIT and says on {@code progress} if it waited more than
   * one window; returns the milliseconds waited. Without /proc it returns at once.
   */
  static long await(long maxMs, Consumer<String> progress) {
    long start = System.nanoTime();
    long ticks = compilerTicks();
    if (ticks < 0) {
      return 0;
    }
    while (true) {
      try {
        Thread.sleep(WINDOW_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return elapsedMs(start);
      }
      long now = compilerTicks();
      long waited = elapsedMs(start);
      if (now - ticks < BUSY_TICKS || waited >= maxMs) {
        if (waited > WINDOW_MS * 2) {
          progress.accept(
              String.format(
                  "  waited %.1f s for this JVM's JIT to go quiet%s",
                  waited / 1000.0,
                  now - ticks < BUSY_TICKS ? "" : " (still busy: measured anyway)"));
        }
        return waited;
      }
      ticks = now;
    }
  }

  private static long elapsedMs(long start) {
    return (System.nanoTime() - start) / 1_000_000;
  }

  /** The CPU clock ticks (user + system) of this JVM's compiler threads so far, or -1. */
  static long compilerTicks() {
    long sum = 0;
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
      for (Path task : tasks) {
        String stat;
        try {
          stat = Files.readString(task.resolve("stat"));
        } catch (IOException e) {
          continue; // the thread ended
        }
        sum += compilerTicks(stat);
      }
    } catch (IOException e) {
      return -1;
    }
    return sum;
  }

  /** utime + stime of one {@code stat} line if its thread is a JIT compiler thread, else 0. */
  static long compilerTicks(String stat) {
    int open = stat.indexOf('(');
    int close = stat.lastIndexOf(')');
    if (open < 0 || close < open) {
      return 0;
    }
    String comm = stat.substring(open + 1, close);
    if (!comm.startsWith("C1 Compiler") && !comm.startsWith("C2 Compiler")) {
      return 0;
    }
    String[] fields = stat.substring(close + 2).split(" ");
    if (fields.length < 13) {
      return 0;
    }
    // Fields 14 and 15 of proc_pid_stat(5); fields[0] is field 3, the state.
    return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
  }
}
