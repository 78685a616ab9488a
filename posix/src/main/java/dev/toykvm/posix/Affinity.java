package dev.toykvm.posix;

import static dev.toykvm.posix.Libc.errno;
import static dev.toykvm.posix.Libc.errnoCall;
import static dev.toykvm.posix.Libc.errnoSegment;
import static dev.toykvm.posix.Libc.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Where threads run: pins whole processes (every thread in {@code /proc/PID/task}) or one thread
 * with {@code sched_setaffinity}, and reads back where the kernel lets each thread run ({@code
 * Cpus_allowed_list} in {@code /proc/PID/task/TID/status}), so a report states what was in force,
 * not what was asked.
 *
 * <p>Threads a pinned thread creates later inherit its mask, so pinning a process before it starts
 * more threads pins those too. CPUs are numbered 0..63.
 */
public final class Affinity {
  private Affinity() {}

  /** {@code sizeof(cpu_set_t)}: 1024 CPUs. */
  private static final long CPU_SET_SIZE = 128;

  private static final MethodHandle SCHED_SETAFFINITY =
      errnoCall("sched_setaffinity", JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS);

  /**
   * {@code sched_setaffinity(tid, sizeof mask, &mask)}: lets thread {@code tid} (a tid from {@link
   * Processes#gettid()} or /proc/PID/task, or a pid for that process's main thread; 0 for the
   * caller) run only on the CPUs whose bits are set in {@code cpuMask} (CPUs 0..63). Threads it
   * creates later inherit the mask.
   *
   * @throws PosixException with {@code ESRCH} if there is no such thread, {@code EINVAL} if no CPU
   *     of the mask is online, {@code EPERM} if the thread is not ours to place
   */
  public static void schedSetaffinity(int tid, long cpuMask) {
    MemorySegment errno = errnoSegment();
    int r;
    try (Arena arena = Arena.ofConfined()) {
      // A cpu_set_t is 1024 bits; CPUs past 63 stay clear.
      MemorySegment set = arena.allocate(CPU_SET_SIZE, 8);
      set.set(JAVA_LONG, 0, cpuMask);
      r = (int) SCHED_SETAFFINITY.invokeExact(errno, tid, CPU_SET_SIZE, set);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (r < 0) {
      throw new PosixException(
          "sched_setaffinity(" + tid + ", 0x" + Long.toHexString(cpuMask) + ")", errno(errno));
    }
  }

  /** The mask of one CPU. */
  public static long cpu(int cpu) {
    if (cpu < 0 || cpu > 63) {
      throw new IllegalArgumentException("cannot pin to CPU " + cpu + ": CPUs 0..63 only");
    }
    return 1L << cpu;
  }

  /** The CPUs this JVM's calling thread may run on now, e.g. {@code [0, 1]}. */
  public static List<Integer> allowedCpus() {
    return parseList(field(Path.of("/proc/thread-self/status"), "Cpus_allowed_list"));
  }

  /**
   * Pins every thread of process {@code pid} ({@link Processes#getpid()} for this JVM) to {@code
   * cpuMask}. A thread that ends meanwhile is skipped.
   *
   * @return how many threads were pinned
   * @throws PosixException if a live thread cannot be pinned (e.g. EINVAL for an offline CPU)
   */
  public static int pinProcess(int pid, long cpuMask) {
    int pinned = 0;
    for (int tid : tids(pid)) {
      try {
        schedSetaffinity(tid, cpuMask);
        pinned++;
      } catch (PosixException e) {
        if (e.errno() != Errnos.ESRCH) {
          throw e;
        }
      }
    }
    return pinned;
  }

  /** Pins the calling thread alone. */
  public static void pinThisThread(long cpuMask) {
    schedSetaffinity(Processes.gettid(), cpuMask);
  }

  /** The threads of {@code pid}, by tid. */
  public static List<Integer> tids(int pid) {
    try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      return tasks.map(p -> Integer.parseInt(p.getFileName().toString())).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the threads of pid " + pid, e);
    }
  }

  /** One thread as the kernel sees it: its name (15 characters at most) and allowed CPUs. */
  public record ThreadPlace(int tid, String name, String cpus) {}

  /** Every live thread of {@code pid} with the CPUs it may run on. */
  public static List<ThreadPlace> threads(int pid) {
    List<ThreadPlace> out = new ArrayList<>();
    for (int tid : tids(pid)) {
      Path dir = Path.of("/proc/" + pid + "/task/" + tid);
      try {
        String name = Files.readString(dir.resolve("comm")).strip();
        out.add(new ThreadPlace(tid, name, field(dir.resolve("status"), "Cpus_allowed_list")));
      } catch (NoSuchFileException | UncheckedIOException e) {
        // the thread ended while we looked
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read thread " + tid + " of pid " + pid, e);
      }
    }
    return out;
  }

  /**
   * A one-line summary of where a process's threads may run, e.g. {@code "23 threads on CPU 0"} or
   * {@code "20 threads on CPU 0, 1 thread on CPUs 0-1"}.
   */
  public static String summary(int pid) {
    Map<String, Integer> byCpus = new TreeMap<>();
    for (ThreadPlace t : threads(pid)) {
      byCpus.merge(t.cpus(), 1, Integer::sum);
    }
    List<String> parts = new ArrayList<>();
    byCpus.forEach(
        (cpus, n) ->
            parts.add(
                n
                    + (n == 1 ? " thread" : " threads")
                    + (cpus.matches("\\d+") ? " on CPU " : " on CPUs ")
                    + cpus));
    return String.join(", ", parts);
  }

  /** Where the thread named {@code name} of {@code pid} may run, e.g. {@code "tid 123, CPU 0"}. */
  public static String threadPlace(int pid, String name) {
    for (ThreadPlace t : threads(pid)) {
      if (t.name().equals(name)) {
        return "tid " + t.tid() + ", CPU " + t.cpus();
      }
    }
    return "not found";
  }

  private static String field(Path status, String key) {
    try {
      for (String line : Files.readAllLines(status)) {
        if (line.startsWith(key + ":")) {
          return line.substring(key.length() + 1).strip();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + status, e);
    }
    throw new IllegalStateException("cannot find " + key + " in " + status);
  }

  /** Parses a kernel CPU list such as {@code 0-1,4}. */
  public static List<Integer> parseList(String list) {
    List<Integer> cpus = new ArrayList<>();
    for (String part : list.split(",")) {
      String p = part.strip();
      if (p.isEmpty()) {
        continue;
      }
      int dash = p.indexOf('-');
      int from = Integer.parseInt(dash < 0 ? p : p.substring(0, dash));
      int to = dash < 0 ? from : Integer.parseInt(p.substring(dash + 1));
      for (int c = from; c <= to; c++) {
        cpus.add(c);
      }
    }
    return cpus;
  }

  /** The mask of a list of CPUs. */
  public static long mask(List<Integer> cpus) {
    long m = 0;
    for (int c : cpus) {
      m |= cpu(c);
    }
    return m;
  }
}
