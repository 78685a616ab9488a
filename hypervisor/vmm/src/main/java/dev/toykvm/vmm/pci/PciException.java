package dev.toykvm.vmm.pci;

/** PCI set-up the VMM cannot do; the message says what and why. */
public final class PciException extends RuntimeException {
  PciException(String message) {
    super(message);
  }
}
