package dev.toykvm.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** What a VM holds in this JVM, for leak checks: engine threads and open fds. */
final class Resources {
  private Resources() {}

  /** Live threads named like vCPU engine threads ({@code vcpuN-engine}). */
  static long engineThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().matches("vcpu\\d+-engine"))
        .count();
  }

  /** Live irqfd threads ({@code vmN-irqfd}). */
  static long irqfdThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().matches("vm\\d+-irqfd"))
        .count();
  }

  /** The fds open in this process, each with what it points to. */
  static List<String> fds() {
    List<String> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
      for (Path p : s.toList()) {
        try {
          out.add(p.getFileName() + " -> " + Files.readSymbolicLink(p));
        } catch (IOException e) {
          // closed while listing (the directory's own fd, for one)
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot list /proc/self/fd", e);
    }
    return out;
  }

  /** The number of fds pointing at eventfds. */
  static long eventfds() {
    return fds().stream().filter(f -> f.endsWith("anon_inode:[eventfd]")).count();
  }

  /** The process's resident set size in KiB, from /proc/self/status. */
  static long rssKib() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read /proc/self/status", e);
    }
    return -1;
  }
}
