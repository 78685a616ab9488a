package dev.toykvm.kernel;

/** The kernel side's "module parameters": system properties read when a vCPU is created. */
final class KernelParams {
  private KernelParams() {}

  /**
   * How long one wait of an ioregion access may last before the device is declared stalled: the
   * system property {@code toykvm.ioregionfd.timeout.ms} (a kernel "module parameter", read when a
   * vCPU is created), 5000 ms by default.
   */
  static long ioregionTimeoutNanos() {
    long ms = Long.getLong(TIMEOUT_PROPERTY, 5000);
    return Math.max(1, ms) * 1_000_000L;
  }

  /** The name of the ioregion timeout "module parameter". */
  static final String TIMEOUT_PROPERTY = "toykvm.ioregionfd.timeout.ms";

  /**
   * Whether translation blocks go through the native block gate ({@code toykvm.kernel.blockgate},
   * true by default); false makes every block a Java upcall, as before the gate (for comparisons:
   * {@code toykvm bench guest-speed --java-block-hook}).
   */
  static boolean blockGate() {
    return !"false".equals(System.getProperty(BLOCK_GATE_PROPERTY));
  }

  /** The name of the block gate "module parameter". */
  static final String BLOCK_GATE_PROPERTY = "toykvm.kernel.blockgate";
}
