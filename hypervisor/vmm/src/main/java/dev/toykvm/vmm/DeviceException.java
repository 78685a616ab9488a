package dev.toykvm.vmm;

/** A device that cannot be started or served; the message says which and why. */
public final class DeviceException extends RuntimeException {
  DeviceException(String message) {
    super(message);
  }
}
