package dev.toykvm.images;

/** How a test image is expected to end: the manifest's {@code expect.exit}. */
public sealed interface ExpectedExit {

  /** The guest writes {@code status} to the debug-exit port 0xF4; the VMM exits with it. */
  record Status(int status) implements ExpectedExit {
    public Status {
      if (status < 0 || status > 255) {
        throw new IllegalArgumentException("exit status " + status + " is not 0-255");
      }
    }

    @Override
    public String toString() {
      return Integer.toString(status);
    }
  }

  /** The vCPU shuts down (a triple fault): KVM_EXIT_SHUTDOWN. */
  record Shutdown() implements ExpectedExit {
    @Override
    public String toString() {
      return "shutdown";
    }
  }

  /**
   * Parses a manifest value: a status 0-255, or {@code shutdown}.
   *
   * @throws IllegalArgumentException if {@code value} is neither
   */
  static ExpectedExit parse(String value) {
    if (value.equals("shutdown")) {
      return new Shutdown();
    }
    try {
      return new Status(Integer.parseInt(value));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "expect.exit=" + value + " is not a status 0-255 or 'shutdown'", e);
    }
  }
}
