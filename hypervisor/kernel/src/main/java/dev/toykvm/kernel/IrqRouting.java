package dev.toykvm.kernel;

import dev.toykvm.kernel.IrqRoutingTable.ChipRoute;
import dev.toykvm.kernel.IrqRoutingTable.MsiRoute;
import dev.toykvm.kernel.IrqRoutingTable.Route;
import dev.toykvm.kernel.irq.DeliveryMode;
import dev.toykvm.kernel.irq.DestinationMode;
import dev.toykvm.kernel.irq.InterruptRequest;
import dev.toykvm.kernel.irq.TriggerMode;
import dev.toykvm.kvm.KvmIrqRoutingEntry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A VM's GSI routing, KVM's {@code kvm_set_irq} and {@code kvm_notify_acked_irq}: the current
 * {@link IrqRoutingTable} (replaced whole by {@code KVM_SET_GSI_ROUTING}, read without a lock),
 * raising a GSI on each of its routes, MSIs in the x86 format, and the ack notifiers (irqfd
 * resampling) an EOI of an interrupt controller input reaches through the table.
 *
 * <p>A line has several sources ({@link #SOURCE_USERSPACE}, {@link #SOURCE_RESAMPLE}, {@link
 * #SOURCE_PIT}, KVM's irq source IDs): an input is asserted while any source asserts it ({@link
 * Irqchip#setPicLine}, {@link Irqchip#setIoapicLine}).
 */
final class IrqRouting {
  /** {@code KVM_IRQ_LINE} and edge irqfds (KVM_USERSPACE_IRQ_SOURCE_ID). */
  static final int SOURCE_USERSPACE = 0;

  /** Resampling irqfds (KVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID). */
  static final int SOURCE_RESAMPLE = 1;

  /** The PIT's IRQ 0. */
  static final int SOURCE_PIT = 2;

  // The x86 MSI format (Intel SDM vol. 3A, 11.11.1 and 11.11.2).
  private static final int MSI_DEST_SHIFT = 12;
  private static final int MSI_REDIRECTION_HINT = 1 << 3;
  private static final int MSI_DEST_LOGICAL = 1 << 2;
  private static final int MSI_DELIVERY_SHIFT = 8;
  private static final int MSI_TRIGGER_LEVEL = 1 << 15;

  private final Irqchip chip;
  private volatile IrqRoutingTable table = IrqRoutingTable.defaults();
  private final Object notifierLock = new Object();
  private volatile Map<Integer, List<Runnable>> ackNotifiers = Map.of(); // copy-on-write

  /** The irqchip the routes deliver to. */
  Irqchip chip() {
    return chip;
  }

  IrqRouting(Irqchip chip) {
    this.chip = chip;
  }

  /** {@code KVM_SET_GSI_ROUTING}: the new table, checked first (a failure keeps the old one). */
  void setRouting(List<KvmIrqRoutingEntry> entries) {
    table = IrqRoutingTable.of(entries);
  }

  /**
   * KVM's {@code kvm_set_irq}: drives every route of {@code gsi} for {@code source}. An MSI route
   * sends its message when the line is raised and ignores a lowering, as KVM's {@code kvm_set_msi}.
   */
  void setIrq(int source, int gsi, boolean level) {
    for (Route route : table.routes(gsi)) {
      switch (route) {
        case ChipRoute c -> {
          if (c.chip() == dev.toykvm.kvm.KvmConstants.KVM_IRQCHIP_IOAPIC) {
            chip.setIoapicLine(c.pin(), source, level);
          } else {
            chip.setPicLine(c.pin(), source, level);
          }
        }
        case MsiRoute m -> {
          if (level) {
            sendMsi(m.addressLo(), m.data());
          }
        }
      }
    }
  }

  /**
   * An MSI (KVM's {@code kvm_set_msi_irq} and {@code kvm_irq_delivery_to_apic}): the destination ID
   * in address bits 19-12, logical with bit 2; one destination with the redirection hint (bit 3) or
   * lowest-priority delivery; vector, delivery mode and trigger from the data. Returns how many
   * local APICs accepted it.
   */
  int sendMsi(int addressLo, int data) {
    DeliveryMode mode = DeliveryMode.fromBits(data >>> MSI_DELIVERY_SHIFT);
    if (mode == DeliveryMode.FIXED && (addressLo & MSI_REDIRECTION_HINT) != 0) {
      mode = DeliveryMode.LOWEST_PRIORITY; // KVM's kvm_lowest_prio_delivery: RH picks one
    }
    InterruptRequest m =
        new InterruptRequest(
            (addressLo >>> MSI_DEST_SHIFT) & 0xff,
            (addressLo & MSI_DEST_LOGICAL) != 0
                ? DestinationMode.LOGICAL
                : DestinationMode.PHYSICAL,
            mode,
            data & 0xff,
            true,
            (data & MSI_TRIGGER_LEVEL) != 0 ? TriggerMode.LEVEL : TriggerMode.EDGE);
    return chip.deliverMessage(m);
  }

  /**
   * KVM's {@code kvm_notify_acked_irq}: input {@code pin} of {@code irqchip} (PIC pins 0-15) left
   * service; the ack notifiers of the GSI the current table routes to it run. Called with no
   * interrupt controller lock held.
   */
  void acked(int irqchip, int pin) {
    int gsi = table.gsiOf(irqchip, pin);
    if (gsi < 0) {
      return;
    }
    for (Runnable notifier : ackNotifiers.getOrDefault(gsi, List.of())) {
      notifier.run();
    }
  }

  /** Registers a notifier for EOIs of {@code gsi} (KVM's {@code kvm_register_irq_ack_notifier}). */
  void addAckNotifier(int gsi, Runnable notifier) {
    synchronized (notifierLock) {
      Map<Integer, List<Runnable>> next = new HashMap<>(ackNotifiers);
      List<Runnable> list = new ArrayList<>(next.getOrDefault(gsi, List.of()));
      list.add(notifier);
      next.put(gsi, List.copyOf(list));
      ackNotifiers = Map.copyOf(next);
    }
  }

  void removeAckNotifier(int gsi, Runnable notifier) {
    synchronized (notifierLock) {
      Map<Integer, List<Runnable>> next = new HashMap<>(ackNotifiers);
      List<Runnable> list = new ArrayList<>(next.getOrDefault(gsi, List.of()));
      list.remove(notifier);
      if (list.isEmpty()) {
        next.remove(gsi);
      } else {
        next.put(gsi, List.copyOf(list));
      }
      ackNotifiers = Map.copyOf(next);
    }
  }
}
