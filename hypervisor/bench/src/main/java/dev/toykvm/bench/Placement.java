package dev.toykvm.bench;

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
}
