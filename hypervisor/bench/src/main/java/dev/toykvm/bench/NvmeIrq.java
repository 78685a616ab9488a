package dev.toykvm.bench;

import java.util.Locale;

/** How nvmetest's bench mode waits for a completion: its {@code irq=} word. */
enum NvmeIrq {
  /** Spinning on the completion queue's phase tag, interrupts off. */
  POLL,
  /** In {@code hlt} until the queue's MSI-X vector (an irqfd) wakes it. */
  MSIX,
  /** In {@code hlt} until INTx (a resampling irqfd on the PIRQ's GSI) wakes it. */
  INTX;

  /** The word on the guest's command line, e.g. {@code msix}. */
  String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * @throws IllegalArgumentException if {@code label} names no mode
   */
  static NvmeIrq parse(String label) {
    for (NvmeIrq m : values()) {
      if (m.label().equals(label)) {
        return m;
      }
    }
    throw new IllegalArgumentException("unknown --irq '" + label + "': poll, msix or intx");
  }
}
