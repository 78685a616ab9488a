package dev.toykvm.ioregionfd.wire;

/**
 * Bytes that are not a valid ioregionfd command or response; the message says which byte and why.
 */
public final class WireFormatException extends RuntimeException {
  public WireFormatException(String message) {
    super(message);
  }
}
