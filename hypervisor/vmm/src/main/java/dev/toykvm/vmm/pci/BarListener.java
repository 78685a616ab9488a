package dev.toykvm.vmm.pci;

/**
 * Told when a function's BAR starts or stops being decoded: the guest moved it, or turned the
 * command register's I/O or memory enable on or off. A move is an unmap of the old place, then a
 * map of the new one; the device's routes (ioregions, ioeventfds, bus ranges) follow.
 *
 * <p>Called on the thread that wrote the configuration register (the VMM's vCPU thread, while the
 * vCPU is out of the guest). A listener never throws for what the guest did: a place it cannot
 * route to (an overlap) it logs, and the BAR decodes nothing there.
 */
public interface BarListener {
  void mapped(BarMapping mapping);

  void unmapped(BarMapping mapping);

  /** A listener that does nothing, for functions whose BARs lead nowhere yet. */
  BarListener NONE =
      new BarListener() {
        @Override
        public void mapped(BarMapping mapping) {}

        @Override
        public void unmapped(BarMapping mapping) {}
      };
}
