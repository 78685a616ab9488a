package dev.toykvm.kernel.unicorn;

/** A {@code uc_*} call failed: names the call and carries Unicorn's error code and text. */
public final class UnicornException extends RuntimeException {
  private final int code;

  UnicornException(String call, int code, String text) {
    super(call + " failed: " + text + " (uc_err " + code + ")");
    this.code = code;
  }

  /** Unicorn's {@code uc_err} value. */
  public int code() {
    return code;
  }
}
