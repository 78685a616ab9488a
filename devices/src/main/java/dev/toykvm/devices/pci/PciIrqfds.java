package dev.toykvm.devices.pci;

import dev.toykvm.devices.IrqfdLines;
import java.util.List;

/**
 * A PCI function's interrupts as the irqfds its device process was given: one edge irqfd per MSI-X
 * vector (the VMM routes each one's GSI from the guest's table entry, or holds it pending while the
 * entry is masked) and one level irqfd with a resamplefd for INTx (KVM's resample contract, {@link
 * IrqfdLines}).
 */
public final class PciIrqfds implements PciInterrupts {
  private final IrqfdLines lines;
  private final int[] vectorGsis;
  private final int intxGsi;
  private long unknownVectors;

  /**
   * @param lines the irqfds: the vectors' edge lines and the INTx level line
   * @param vectorGsis the GSI of each MSI-X vector's irqfd, in vector order
   * @param intxGsi the GSI of the INTx irqfd, or -1 if the function has none
   */
  public PciIrqfds(IrqfdLines lines, List<Integer> vectorGsis, int intxGsi) {
    this.lines = lines;
    this.vectorGsis = vectorGsis.stream().mapToInt(Integer::intValue).toArray();
    this.intxGsi = intxGsi;
  }

  @Override
  public void msix(int vector) {
    if (vector < 0 || vector >= vectorGsis.length) {
      unknownVectors++; // a model bug, never the guest's: counted, nothing sent
      return;
    }
    lines.pulse(vectorGsis[vector]);
  }

  @Override
  public void intx(boolean asserted) {
    if (intxGsi >= 0) {
      lines.setIrq(intxGsi, asserted);
    }
  }

  /** MSI-X vectors signalled that have no irqfd. */
  public long unknownVectors() {
    return unknownVectors;
  }

  /** The irqfds behind the interrupts. */
  public IrqfdLines lines() {
    return lines;
  }
}
