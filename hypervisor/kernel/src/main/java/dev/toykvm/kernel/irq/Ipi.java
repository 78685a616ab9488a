package dev.toykvm.kernel.irq;

/**
 * An interprocessor interrupt a local APIC sends when software writes ICR low (Intel SDM vol. 3A,
 * 11.6.1).
 *
 * @param vector ICR bits 7:0 (for a start-up IPI, the page of the start address)
 * @param deliveryMode ICR bits 10:8
 * @param destMode ICR bit 11
 * @param level ICR bit 14: assert (true) or de-assert (an INIT level de-assert)
 * @param trigger ICR bit 15
 * @param shorthand ICR bits 19:18
 * @param destination ICR high bits 31:24 (ignored with a shorthand)
 */
public record Ipi(
    int vector,
    DeliveryMode deliveryMode,
    DestinationMode destMode,
    boolean level,
    TriggerMode trigger,
    Shorthand shorthand,
    int destination) {

  /** ICR bits 19:18. */
  public enum Shorthand {
    NONE,
    SELF,
    ALL_INCLUDING_SELF,
    ALL_EXCLUDING_SELF;

    static Shorthand fromBits(int bits) {
      return values()[bits & 3];
    }
  }
}
