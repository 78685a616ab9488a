package dev.toykvm.vmm;

/** How a VM run ended, with the process exit status and a message for the user. */
public sealed interface VmOutcome {

  /** The process exit status for this outcome (see {@link ExitCodes}). */
  int exitCode();

  /** One line for the user; empty for a guest that exited through the debug-exit port. */
  String message();

  /** The guest wrote {@code status} to the debug-exit port. */
  record GuestExited(int status) implements VmOutcome {
    @Override
    public int exitCode() {
      return status;
    }

    @Override
    public String message() {
      return "";
    }
  }

  /** The guest executed {@code hlt} and nothing will ever wake it. */
  record GuestHalted(String detail) implements VmOutcome {
    @Override
    public int exitCode() {
      return ExitCodes.HALTED;
    }

    @Override
    public String message() {
      return "guest halted: " + detail;
    }
  }

  /** {@code KVM_EXIT_SHUTDOWN}. */
  record TripleFault() implements VmOutcome {
    @Override
    public int exitCode() {
      return ExitCodes.TRIPLE_FAULT;
    }

    @Override
    public String message() {
      return "guest triple-faulted (KVM_EXIT_SHUTDOWN): an exception while delivering a double"
          + " fault; the vCPU cannot continue";
    }
  }

  /** {@code KVM_EXIT_INTERNAL_ERROR} or {@code KVM_EXIT_FAIL_ENTRY}. */
  record GuestError(String detail) implements VmOutcome {
    @Override
    public int exitCode() {
      return ExitCodes.GUEST_ERROR;
    }

    @Override
    public String message() {
      return detail;
    }
  }

  /** A device process failed under the guest ({@code KVM_EXIT_IOREGIONFD_FAILURE}). */
  record DeviceFailed(String detail) implements VmOutcome {
    @Override
    public int exitCode() {
      return ExitCodes.DEVICE;
    }

    @Override
    public String message() {
      return detail;
    }
  }

  /**
   * The guest reset the machine (i8042 command 0xfe, or port 0x92 bit 0). toykvm does not reboot
   * it: the VM ends.
   */
  record GuestReset() implements VmOutcome {
    @Override
    public int exitCode() {
      return ExitCodes.RESET;
    }

    @Override
    public String message() {
      return "guest reset the machine (i8042 0xfe or port 0x92): the VM ends, toykvm does not"
          + " reboot";
    }
  }

  /** {@code --timeout} expired. */
  record TimedOut(java.time.Duration after) implements VmOutcome {
    @Override
    public int exitCode() {
      return ExitCodes.TIMEOUT;
    }

    @Override
    public String message() {
      return "guest still running after " + after.toMillis() + " ms (--timeout): stopped it";
    }
  }
}
