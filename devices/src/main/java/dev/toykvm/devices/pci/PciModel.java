package dev.toykvm.devices.pci;

import dev.toykvm.devices.BusDevice;

/**
 * A PCI device model as toykvm hosts it, in a device process or in the VMM: the window of its
 * memory BAR served by the model ({@link BusDevice}: offsets from the BAR's start), the PCI state
 * it acts on, and the resources it holds (a disk file, say).
 */
public interface PciModel extends BusDevice, AutoCloseable {

  /** The guest changed bus master, INTx disable, MSI-X enable or the function mask. */
  void pciState(PciState state);

  /** Releases what the model holds; it serves nothing afterwards. */
  @Override
  void close();
}
