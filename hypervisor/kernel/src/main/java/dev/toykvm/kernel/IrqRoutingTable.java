package dev.toykvm.kernel;

import static dev.toykvm.kvm.KvmConstants.KVM_IRQCHIP_IOAPIC;
import static dev.toykvm.kvm.KvmConstants.KVM_IRQCHIP_PIC_MASTER;
import static dev.toykvm.kvm.KvmConstants.KVM_IRQCHIP_PIC_SLAVE;
import static dev.toykvm.kvm.KvmConstants.KVM_MAX_IRQ_ROUTES;
import static dev.toykvm.kvm.KvmConstants.KVM_MSI_VALID_DEVID;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmIrqRoutingEntry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An immutable GSI routing table, KVM's {@code kvm_irq_routing_table}: for each GSI its routes, and
 * for each interrupt controller input the GSI routed to it (what an EOI of that input
 * acknowledges). Built and checked with KVM's rules ({@code kvm_set_irq_routing}, {@code
 * setup_routing_entry} and x86's {@code kvm_set_routing_entry}); replaced whole, never changed.
 */
final class IrqRoutingTable {
  static final String IOCTL = "KVM_SET_GSI_ROUTING";

  /** The PIC pair's inputs as KVM numbers them in routes: the master's 0-7, the slave's 8-15. */
  static final int PIC_PINS = 16;

  static final int IOAPIC_PINS = 24;

  /** Where a GSI goes. */
  sealed interface Route {}

  /**
   * Input {@code pin} of interrupt controller {@code chip} ({@code KVM_IRQCHIP_*}); the slave PIC's
   * pins are 8-15, as in KVM, so that a PIC route's pin is its IRQ number.
   */
  record ChipRoute(int chip, int pin) implements Route {}

  /** An MSI with this address and data. */
  record MsiRoute(int addressLo, int addressHi, int data) implements Route {}

  private static final Route[] NONE = new Route[0];

  private final Route[][] byGsi;
  private final int[][] gsiByChipPin;

  private IrqRoutingTable(Route[][] byGsi, int[][] gsiByChipPin) {
    this.byGsi = byGsi;
    this.gsiByChipPin = gsiByChipPin;
  }

  /**
   * KVM's default x86 table ({@code kvm_setup_default_irq_routing}): GSIs 0-15 to the PIC input of
   * the same number and to I/O APIC pin n, GSIs 16-23 to I/O APIC pin n.
   */
  static IrqRoutingTable defaults() {
    List<KvmIrqRoutingEntry> entries = new ArrayList<>();
    for (int gsi = 0; gsi < IOAPIC_PINS; gsi++) {
      if (gsi < PIC_PINS) {
        int chip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
        entries.add(KvmIrqRoutingEntry.irqchip(gsi, chip, gsi % 8));
      }
      entries.add(KvmIrqRoutingEntry.irqchip(gsi, KVM_IRQCHIP_IOAPIC, gsi));
    }
    return of(entries);
  }

  /**
   * The table of {@code entries}, checked as {@code KVM_SET_GSI_ROUTING} checks them.
   *
   * @throws KvmException {@code EFAULT} for a null list or entry, {@code EINVAL} as {@link
   *     dev.toykvm.kvm.VmFd#setGsiRouting} documents
   */
  static IrqRoutingTable of(List<KvmIrqRoutingEntry> entries) {
    if (entries == null) {
      throw new KvmException(IOCTL, Errno.EFAULT, "entries is null");
    }
    if (entries.size() > KVM_MAX_IRQ_ROUTES) {
      throw invalid(
          entries.size() + " entries, more than KVM_MAX_IRQ_ROUTES " + KVM_MAX_IRQ_ROUTES);
    }
    int highest = -1;
    for (KvmIrqRoutingEntry e : entries) {
      if (e == null) {
        throw new KvmException(IOCTL, Errno.EFAULT, "an entry is null");
      }
      if (Integer.compareUnsigned(e.gsi(), KVM_MAX_IRQ_ROUTES) >= 0) {
        throw invalid(
            "gsi " + Integer.toUnsignedString(e.gsi()) + " is not below " + KVM_MAX_IRQ_ROUTES);
      }
      highest = Math.max(highest, e.gsi());
    }
    List<List<Route>> routes = new ArrayList<>();
    for (int gsi = 0; gsi <= highest; gsi++) {
      routes.add(new ArrayList<>(2));
    }
    int[][] chipMap = new int[3][IOAPIC_PINS];
    for (int[] row : chipMap) {
      Arrays.fill(row, -1);
    }
    for (KvmIrqRoutingEntry e : entries) {
      List<Route> existing = routes.get(e.gsi());
      Route route =
          switch (e) {
            case KvmIrqRoutingEntry.Irqchip c -> chipRoute(c, existing);
            case KvmIrqRoutingEntry.Msi m -> msiRoute(m, existing);
          };
      existing.add(route);
      if (route instanceof ChipRoute c) {
        chipMap[c.chip()][c.pin()] = e.gsi(); // the last entry for an input wins, as in KVM
      }
    }
    Route[][] byGsi = new Route[routes.size()][];
    for (int gsi = 0; gsi < byGsi.length; gsi++) {
      byGsi[gsi] = routes.get(gsi).toArray(NONE);
    }
    return new IrqRoutingTable(byGsi, chipMap);
  }

  private static ChipRoute chipRoute(KvmIrqRoutingEntry.Irqchip c, List<Route> existing) {
    if (c.flags() != 0) {
      throw invalid("flags 0x" + Integer.toHexString(c.flags()) + " on an irqchip route");
    }
    for (Route r : existing) {
      if (!(r instanceof ChipRoute other) || other.chip() == c.irqchip()) {
        throw invalid("gsi " + c.gsi() + " has a route to that irqchip or an MSI route already");
      }
    }
    int pins =
        switch (c.irqchip()) {
          case KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE -> PIC_PINS / 2;
          case KVM_IRQCHIP_IOAPIC -> IOAPIC_PINS;
          default -> throw invalid("irqchip " + c.irqchip() + " is not 0, 1 or 2");
        };
    if (Integer.compareUnsigned(c.pin(), pins) >= 0) {
      throw invalid(
          "pin "
              + Integer.toUnsignedString(c.pin())
              + " is not below "
              + pins
              + " on irqchip "
              + c.irqchip());
    }
    int pin = c.irqchip() == KVM_IRQCHIP_PIC_SLAVE ? c.pin() + PIC_PINS / 2 : c.pin();
    return new ChipRoute(c.irqchip(), pin);
  }

  private static MsiRoute msiRoute(KvmIrqRoutingEntry.Msi m, List<Route> existing) {
    if ((m.flags() & ~KVM_MSI_VALID_DEVID) != 0) {
      throw invalid("flags 0x" + Integer.toHexString(m.flags()) + " on an MSI route");
    }
    if (!existing.isEmpty()) {
      throw invalid("gsi " + m.gsi() + " has a route already: an MSI route is its only one");
    }
    return new MsiRoute(m.addressLo(), m.addressHi(), m.data());
  }

  private static KvmException invalid(String why) {
    return new KvmException(IOCTL, Errno.EINVAL, why);
  }

  /** The routes of {@code gsi}: none for a GSI the table does not route (any int). */
  Route[] routes(int gsi) {
    return gsi >= 0 && gsi < byGsi.length ? byGsi[gsi] : NONE;
  }

  /** The GSI routed to input {@code pin} of {@code chip} (PIC pins 0-15), or -1. */
  int gsiOf(int chip, int pin) {
    return gsiByChipPin[chip][pin];
  }

  /** How many GSIs the table spans (KVM's {@code nr_rt_entries}): the highest GSI plus one. */
  int size() {
    return byGsi.length;
  }
}
