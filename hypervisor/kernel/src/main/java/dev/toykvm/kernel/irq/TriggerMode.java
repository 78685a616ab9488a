package dev.toykvm.kernel.irq;

/** Edge- or level-triggered, as in an I/O APIC entry, an LVT entry or an ICR. */
public enum TriggerMode {
  EDGE,
  LEVEL;

  static TriggerMode fromBit(boolean level) {
    return level ? LEVEL : EDGE;
  }
}
