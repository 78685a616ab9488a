package dev.toykvm.vmm;

import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmIrqRoutingEntry;
import dev.toykvm.kvm.VmFd;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The GSI routing table the VMM installs ({@code KVM_SET_GSI_ROUTING}) when a device asks for an
 * MSI route ({@link DeviceSpec#msis()}). The call replaces the whole table, so the table keeps
 * KVM's default routes ({@code kvm_setup_default_irq_routing}: GSIs 0-15 to the 8259s, IRQ n, and
 * to I/O APIC pin n; GSIs 16-23 to I/O APIC pin n) and adds the MSI routes after them. A machine
 * with no MSI route keeps KVM's default table untouched: no call at all.
 */
final class GsiRoutes {
  private static final Logger log = LoggerFactory.getLogger(GsiRoutes.class);

  private GsiRoutes() {}

  /** GSIs 0..15 reach the 8259s and the I/O APIC, 16..23 the I/O APIC only. */
  static final int ISA_GSIS = 16;

  /** The I/O APIC's pins, GSIs 0..23 in the default table. */
  static final int IOAPIC_PINS = 24;

  /** KVM's default table, in KVM's order (per GSI: I/O APIC, then the PIC). */
  static List<KvmIrqRoutingEntry> kvmDefault() {
    List<KvmIrqRoutingEntry> table = new ArrayList<>();
    for (int gsi = 0; gsi < IOAPIC_PINS; gsi++) {
      table.add(KvmIrqRoutingEntry.irqchip(gsi, KvmConstants.KVM_IRQCHIP_IOAPIC, gsi));
      if (gsi < ISA_GSIS) {
        int pic =
            gsi < 8 ? KvmConstants.KVM_IRQCHIP_PIC_MASTER : KvmConstants.KVM_IRQCHIP_PIC_SLAVE;
        table.add(KvmIrqRoutingEntry.irqchip(gsi, pic, gsi % 8));
      }
    }
    return table;
  }

  /**
   * The table for these devices: KVM's default plus every MSI route; empty if no device has one.
   *
   * @throws DeviceException if two devices route one GSI as an MSI, or a device has a level line
   *     (resample) on a GSI another routes as an MSI (an MSI is never acknowledged, so the line
   *     would never be resampled)
   */
  static Optional<List<KvmIrqRoutingEntry>> forDevices(List<DeviceSpec> devices) {
    Map<Integer, String> msiOwner = new HashMap<>();
    List<KvmIrqRoutingEntry> table = new ArrayList<>(kvmDefault());
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
        table.add(
            KvmIrqRoutingEntry.msi(
                r.gsi(), (int) r.address(), (int) (r.address() >>> 32), r.data()));
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
    return msiOwner.isEmpty() ? Optional.empty() : Optional.of(List.copyOf(table));
  }

  /**
   * Installs the devices' table if they have MSI routes. Without an irqchip there is no routing
   * table (the devices' irqfds are not registered either): the routes are dropped, said once in the
   * log.
   *
   * @throws DeviceException as {@link #forDevices}
   * @throws dev.toykvm.kvm.KvmException if the kernel side refuses the table
   */
  static void install(VmFd vm, List<DeviceSpec> devices, boolean irqchip) {
    Optional<List<KvmIrqRoutingEntry>> table = forDevices(devices);
    if (table.isEmpty()) {
      return;
    }
    if (!irqchip) {
      log.info("devices: the MSI routes go nowhere: no irqchip");
      return;
    }
    vm.setGsiRouting(table.get());
    log.debug("devices: GSI routing table of {} entries installed", table.get().size());
  }
}
