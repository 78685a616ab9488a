package dev.toykvm.vmm.pci;

import dev.toykvm.devices.BusDevice;
import dev.toykvm.devices.bus.Bus;
import dev.toykvm.devices.bus.BusRangeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The BARs of a device that lives in the VMM ({@code route=in-process}), as ranges on the VMM's PIO
 * and MMIO buses that follow the guest. A place that overlaps another range on the bus is the
 * guest's doing: logged, and the BAR decodes nothing there until it moves again.
 */
public final class BusBarRoutes implements BarListener {
  private static final Logger log = LoggerFactory.getLogger(BusBarRoutes.class);

  private final String name;
  private final Bus pio;
  private final Bus mmio;
  private final BusDevice[] devices;
  private final BarMapping[] inserted = new BarMapping[PciDevice.BARS];

  /**
   * @param devices the device behind each BAR register, by BAR number ({@code null} where none)
   */
  public BusBarRoutes(String name, Bus pio, Bus mmio, BusDevice[] devices) {
    this.name = name;
    this.pio = pio;
    this.mmio = mmio;
    this.devices = devices.clone();
  }

  @Override
  public synchronized void mapped(BarMapping m) {
    BusDevice d = m.bar() < devices.length ? devices[m.bar()] : null;
    if (d == null) {
      return;
    }
    try {
      (m.io() ? pio : mmio).insert(name + " BAR" + m.bar(), m.address(), m.size(), d);
      inserted[m.bar()] = m;
    } catch (BusRangeException e) {
      log.warn("pci: {} {} decodes nothing: {}", name, m, e.getMessage());
    }
  }

  @Override
  public synchronized void unmapped(BarMapping m) {
    if (m.equals(inserted[m.bar()])) {
      (m.io() ? pio : mmio).remove(m.address());
      inserted[m.bar()] = null;
    }
  }
}
