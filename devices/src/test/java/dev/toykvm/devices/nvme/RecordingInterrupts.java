package dev.toykvm.devices.nvme;

import dev.toykvm.devices.pci.PciInterrupts;
import java.util.ArrayList;
import java.util.List;

/** Records what a model raises: MSI-X vectors in order, INTx level changes in order. */
final class RecordingInterrupts implements PciInterrupts {
  final List<Integer> msix = new ArrayList<>();
  final List<Boolean> intxChanges = new ArrayList<>();
  boolean intx;

  @Override
  public void msix(int vector) {
    msix.add(vector);
  }

  @Override
  public void intx(boolean asserted) {
    intx = asserted;
    intxChanges.add(asserted);
  }

  void clear() {
    msix.clear();
    intxChanges.clear();
  }
}
