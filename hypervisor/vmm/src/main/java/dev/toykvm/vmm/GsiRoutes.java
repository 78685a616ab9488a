package dev.toykvm.vmm;

import dev.toykvm.kvm.VmFd;
import dev.toykvm.vmm.pci.GsiTable;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code --device} options' part of the VM's live GSI routing table ({@link GsiTable}): their
 * static MSI routes ({@link DeviceSpec#msis()}) are put in the table, and every GSI an option names
 * (its level and edge lines, its MSI routes) is reserved, so the GSIs the table hands out to PCI
 * functions' MSI-X vectors never collide with them. A machine with no MSI route keeps KVM's default
 * table untouched until a PCI function routes one.
 */
final class GsiRoutes {
  private GsiRoutes() {}

  /**
   * The VM's table with these devices' routes installed.
   *
   * @throws DeviceException if two devices route one GSI as an MSI, or a device has a level line
   *     (resample) on a GSI another routes as an MSI (an MSI is never acknowledged, so the line
   *     would never be resampled)
   * @throws dev.toykvm.kvm.KvmException if the kernel side refuses the table
   */
  static GsiTable install(VmFd vm, List<DeviceSpec> devices, boolean irqchip) {
    check(devices);
    GsiTable table = new GsiTable(vm, irqchip);
    for (DeviceSpec d : devices) {
      d.irqs().forEach(table::reserve);
      d.edgeIrqs().forEach(table::reserve);
      for (MsiRoute r : d.msis()) {
        table.reserve(r.gsi());
        table.setMsi(r.gsi(), r.address(), r.data());
      }
    }
    return table;
  }

  /**
   * Refuses what no table can hold.
   *
   * @throws DeviceException as {@link #install}
   */
  static void check(List<DeviceSpec> devices) {
    Map<Integer, String> msiOwner = new HashMap<>();
    for (DeviceSpec d : devices) {
      for (MsiRoute r : d.msis()) {
        String other = msiOwner.putIfAbsent(r.gsi(), d.name());
        if (other != null) {
          throw new DeviceException(
              "cannot route GSI "
                  + r.gsi()
                  + " as an MSI for device "
                  + d.name()
                  + ": device "
                  + other
                  + " routes it already");
        }
      }
    }
    for (DeviceSpec d : devices) {
      for (int gsi : d.irqs()) {
        if (msiOwner.containsKey(gsi)) {
          throw new DeviceException(
              "cannot give device "
                  + d.name()
                  + " a level line on GSI "
                  + gsi
                  + ": it is an MSI route of device "
                  + msiOwner.get(gsi)
                  + " (an MSI is never acknowledged, so the line would never be resampled)");
        }
      }
    }
  }
}
