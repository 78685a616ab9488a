package dev.toykvm.kernel.irq;

/** How the destination field of an interrupt message is read (Intel SDM vol. 3A, 11.6.2). */
public enum DestinationMode {
  /** The destination is an APIC ID (0xff: all). */
  PHYSICAL,
  /** The destination is a message destination address matched against LDR under DFR's model. */
  LOGICAL;

  static DestinationMode fromBit(boolean logical) {
    return logical ? LOGICAL : PHYSICAL;
  }
}
