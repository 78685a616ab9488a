package dev.toykvm.devices.bus;

/** A device range that a bus refuses: zero length, overflow past 2^64, or an overlap. */
public final class BusRangeException extends IllegalArgumentException {
  public BusRangeException(String message) {
    super(message);
  }
}
