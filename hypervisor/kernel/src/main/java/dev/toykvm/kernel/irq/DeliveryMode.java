package dev.toykvm.kernel.irq;

/**
 * The 3-bit delivery mode of an interrupt message: I/O APIC redirection entries (82093AA datasheet,
 * 3.2.4, bits 10:8), local APIC LVT entries and the ICR (Intel SDM vol. 3A, 11.5.1 and 11.6.1).
 */
public enum DeliveryMode {
  FIXED,
  LOWEST_PRIORITY,
  SMI,
  /** 011b: reserved. */
  RESERVED,
  NMI,
  INIT,
  /** 110b: start-up (SIPI) in the ICR; reserved in an I/O APIC entry. */
  STARTUP,
  EXTINT;

  private static final DeliveryMode[] BY_BITS = values();

  /** The mode encoded in the low three bits of {@code bits}. */
  public static DeliveryMode fromBits(int bits) {
    return BY_BITS[bits & 7];
  }

  /** The 3-bit encoding. */
  public int bits() {
    return ordinal();
  }
}
