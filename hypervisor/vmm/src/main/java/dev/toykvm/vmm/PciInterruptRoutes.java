package dev.toykvm.vmm;

import dev.toykvm.devices.BusDevice;
import dev.toykvm.devices.bus.Bus;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.vmm.pci.BarListener;
import dev.toykvm.vmm.pci.BusBarRoutes;
import dev.toykvm.vmm.pci.GsiTable;
import dev.toykvm.vmm.pci.IntxRoute;
import dev.toykvm.vmm.pci.IsaBridge;
import dev.toykvm.vmm.pci.MsixTable;
import dev.toykvm.vmm.pci.MsixVectors;
import dev.toykvm.vmm.pci.NvmeFunction;
import dev.toykvm.vmm.pci.PciDevice;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PCI interrupt routing of a machine with a chipset, for each PCI function a device process
 * serves: its BAR4 is an {@link MsixTable} on the VMM's MMIO bus (following the BAR), its MSI-X
 * vectors' irqfds are routed from the table by {@link MsixVectors} (told of every configuration
 * write), and its INTx irqfd follows the PIIX3's PIRQ route of its pin ({@link IntxRoute}). A
 * function without irqfds ({@code route=in-process}) gets the table, whose vectors then stay
 * pending: its interrupts go nowhere.
 *
 * <p>Closed with the devices, after the VM: the irqfds' deassigns then fail quietly.
 */
final class PciInterruptRoutes implements PciPlumbing.PciInterruptWiring, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PciInterruptRoutes.class);

  private final Bus pio;
  private final Bus mmio;
  private final Supplier<GsiTable> gsis;
  private final IsaBridge isa;
  private final List<AutoCloseable> routes = new ArrayList<>();

  /**
   * @param gsis the VM's live GSI table (made when the devices are attached)
   * @param isa the PIIX3, whose PIRQ routes INTx follows
   */
  PciInterruptRoutes(Bus pio, Bus mmio, Supplier<GsiTable> gsis, IsaBridge isa) {
    this.pio = pio;
    this.mmio = mmio;
    this.gsis = gsis;
    this.isa = isa;
  }

  @Override
  public BarListener attach(VmFd vm, PciPlumbing.PciAttached attached) {
    NvmeFunction function = attached.function();
    String name = attached.spec().name();
    MsixTable table = new MsixTable(name, function.vectors());
    if (!attached.vectors().isEmpty()) {
      int[] eventfds = attached.vectors().stream().mapToInt(DeviceIrqfds.InterruptFd::fd).toArray();
      MsixVectors vectors =
          new MsixVectors(
              name, vm, gsis.get(), function, function.msixCapability(), table, eventfds);
      routes.add(vectors);
      function.afterConfigWrite(vectors::configChanged);
      log.debug("devices: {}: {}", name, vectors);
    }
    if (attached.intx() != null) {
      routes.add(
          new IntxRoute(
              name,
              vm,
              gsis.get(),
              isa,
              attached.slot(),
              function.readConfig(PciDevice.INTERRUPT_PIN, 1),
              attached.intx().fd(),
              attached.intx().resampleFd()));
    }
    BusDevice[] bars = new BusDevice[PciDevice.BARS];
    bars[NvmeFunction.MSIX_BAR] = table;
    return new BusBarRoutes(name + " MSI-X", pio, mmio, bars);
  }

  @Override
  public void close() {
    for (AutoCloseable r : routes) {
      try {
        r.close();
      } catch (Exception e) {
        log.debug("devices: closing {} failed", r, e);
      }
    }
    routes.clear();
  }
}
