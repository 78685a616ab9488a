package dev.toykvm.vmm;

/**
 * The exit statuses of {@code toykvm}. A guest that ends through the debug-exit port gives its own
 * byte (0..255) back as is; the VMM's own outcomes use fixed codes from 64 on (the sysexits range).
 * A guest that wants its status to be unambiguous uses 0..63.
 */
public final class ExitCodes {
  private ExitCodes() {}

  /** The guest wrote 0 to the debug-exit port. */
  public static final int SUCCESS = 0;

  /** Bad command line: unknown option, bad size, missing argument. */
  public static final int USAGE = 64;

  /** The image is missing or malformed. */
  public static final int IMAGE = 65;

  /** The guest triple-faulted ({@code KVM_EXIT_SHUTDOWN}). */
  public static final int TRIPLE_FAULT = 66;

  /** The guest halted and nothing can wake it (no interrupt source in this machine). */
  public static final int HALTED = 67;

  /**
   * The vCPU stopped with {@code KVM_EXIT_INTERNAL_ERROR} (something the CPU emulation cannot do)
   * or {@code KVM_EXIT_FAIL_ENTRY} (a state the vCPU cannot enter).
   */
  public static final int GUEST_ERROR = 68;

  /** {@code --timeout} expired before the guest exited. */
  public static final int TIMEOUT = 69;

  /**
   * The hypervisor could not create or run the VM (no kernel side on the class path, libunicorn
   * missing, a failed ioctl, a bug in toykvm).
   */
  public static final int HYPERVISOR = 70;

  /**
   * A device process could not be started, did not start serving, or failed while the guest used it
   * ({@code KVM_EXIT_IOREGIONFD_FAILURE}).
   */
  public static final int DEVICE = 71;

  /** The guest reset the machine (i8042 0xfe, port 0x92 fast reset): the VM ends. */
  public static final int RESET = 72;
}
