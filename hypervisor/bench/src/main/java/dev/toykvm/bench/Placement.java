package dev.toykvm.bench;

import dev.toykvm.posix.Affinity;
import java.io.PrintStream;
import java.util.List;

/**
 * Where one benchmark run puts things: every thread of this JVM (the VMM thread, the vCPU's engine
 * thread, the ping-pong's client) on {@code vmmCpu}, the device process (or the echo thread of the
 * in-JVM ping-pong) on {@code deviceCpu}.
 *
 * @param name {@code same-cpu} or {@code different-cpus}
 * @param vmmCpu the CPU of this JVM
 * @param deviceCpu the CPU of the device process
 */
record Placement(String name, int vmmCpu, int deviceCpu) {

  /** Everything on one CPU: the device runs only when the vCPU waits for it. */
  static Placement sameCpu(int cpu) {
    return new Placement("same-cpu", cpu, cpu);
  }

  /** This JVM on one CPU, the device on another: each answer has to wake the other CPU. */
  static Placement differentCpus(int vmmCpu, int deviceCpu) {
    return new Placement("different-cpus", vmmCpu, deviceCpu);
  }

  /** E.g. {@code "same-cpu (VMM JVM on CPU 0, device on CPU 0)"}. */
  String describe() {
    return name + " (VMM JVM on CPU " + vmmCpu + ", device on CPU " + deviceCpu + ")";
  }

  /**
   * The placements a benchmark command's {@code --cpus A,B} and {@code --placement} ask for: {@code
   * same-cpu} on A, {@code different-cpus} with this JVM on A and the device on B, or both (the
   * default; {@code same-cpu} with {@code quick}). Without {@code --cpus}, A and B are the first
   * two CPUs this process may use; with only one, {@code both} measures same-cpu only, said on
   * {@code err}.
   *
   * @param cpus {@code --cpus}, or null
   * @param placement {@code --placement}, or null
   * @throws IllegalArgumentException for a malformed {@code --cpus} or an unknown placement
   */
  static List<Placement> choose(String cpus, String placement, boolean quick, PrintStream err) {
    List<Integer> allowed = Affinity.allowedCpus();
    int a;
    int b;
    if (cpus != null) {
      String[] parts = cpus.split(",");
      if (parts.length != 2) {
        throw new IllegalArgumentException("--cpus wants two CPUs, A,B, not '" + cpus + "'");
      }
      try {
        a = Integer.parseInt(parts[0].strip());
        b = Integer.parseInt(parts[1].strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--cpus wants two CPU numbers, not '" + cpus + "'");
      }
    } else {
      a = allowed.getFirst();
      b = allowed.size() > 1 ? allowed.get(1) : a;
    }
    String where = placement != null ? placement : quick ? "same-cpu" : "both";
    List<Placement> placements =
        switch (where) {
          case "same-cpu" -> List.of(sameCpu(a));
          case "different-cpus" -> List.of(differentCpus(a, b));
          case "both" -> a == b ? List.of(sameCpu(a)) : List.of(sameCpu(a), differentCpus(a, b));
          default ->
              throw new IllegalArgumentException(
                  "--placement is same-cpu, different-cpus or both, not '" + where + "'");
        };
    if (a == b && where.equals("both")) {
      err.println("toykvm: only one CPU available: measuring same-cpu only");
    }
    return placements;
  }
}
