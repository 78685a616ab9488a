package dev.toykvm.kernel;

import dev.toykvm.kernel.irq.DeliveryMode;
import dev.toykvm.kernel.irq.InterruptRequest;
import dev.toykvm.kernel.irq.IoApic;
import dev.toykvm.kernel.irq.Ipi;
import dev.toykvm.kernel.irq.Lapic;
import dev.toykvm.kernel.irq.Pic8259Pair;
import dev.toykvm.kernel.irq.Pit8254;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The VM's in-kernel irqchip ({@code KVM_CREATE_IRQCHIP}): the 8259 pair and the I/O APIC, shared
 * by every vCPU, and each vCPU's local APIC ({@link VcpuIrq}).
 *
 * <p>Locking: each device has its own lock (the models are not thread-safe). A vCPU's local APIC
 * lock may be held while the PIC lock is taken (acknowledging an ExtINT), never the reverse; the
 * I/O APIC lock is never held while a local APIC lock is taken: its messages are collected under
 * its lock and delivered after, and a local APIC's level EOIs reach the I/O APIC after the local
 * APIC lock is released. EOIs reach the ack notifiers (irqfd resampling, {@link IrqRouting}) with
 * no controller lock held, as KVM drops its locks for them. So no two threads can wait for each
 * other.
 */
final class Irqchip {
  private static final Logger log = LoggerFactory.getLogger(Irqchip.class);

  /** GSIs with a route in KVM's default routing: the I/O APIC's 24 pins. */
  static final int GSIS = IoApic.PINS;

  private final Object picLock = new Object();
  private final Pic8259Pair pic;
  private final Object ioapicLock = new Object();
  private final IoApic ioapic;
  private final List<InterruptRequest> outbox = new ArrayList<>(); // under ioapicLock
  private final Map<Integer, VcpuIrq> vcpus = new ConcurrentHashMap<>();
  private boolean loggedUnsupportedMode;
  private final Object pitLock = new Object();
  private volatile Pit8254 pit; // KVM_CREATE_PIT2
  private volatile long pitDeadline = Long.MAX_VALUE;
  private final List<Boolean> irq0 = new ArrayList<>(); // under pitLock: IRQ 0 levels to drive
  private final IrqRouting routing = new IrqRouting(this);
  private final int[] picSources = new int[IrqRoutingTable.PIC_PINS]; // under picLock
  private final int[] ioapicSources = new int[IoApic.PINS]; // under ioapicLock
  private final List<Integer> picAcks = new ArrayList<>(); // under picLock: IRQs that left service

  Irqchip() {
    pic =
        new Pic8259Pair(
            new Pic8259Pair.Listener() {
              @Override
              public void intr(boolean level) {
                if (level) {
                  wakeAll();
                }
              }

              @Override
              public void acked(int irq) {
                picAcks.add(irq); // notified once the PIC lock is released (drainPicAcks)
              }
            });
    ioapic = new IoApic(outbox::add, pin -> {});
  }

  private volatile boolean hltIf0Exit; // KVM_CAP_TOYKVM_HLT_IF0_EXIT

  void setHltIf0Exit(boolean enabled) {
    hltIf0Exit = enabled;
  }

  /** Whether a {@code hlt} with IF=0 returns {@code KVM_EXIT_HLT} (see the capability). */
  boolean hltIf0Exit() {
    return hltIf0Exit;
  }

  /** {@code KVM_CREATE_PIT2}; false if the VM has a PIT already. */
  synchronized boolean createPit() {
    if (pit != null) {
      return false;
    }
    pit = new Pit8254(System::nanoTime, irq0::add);
    return true;
  }

  /** When the PIT next raises IRQ 0 (host monotonic nanoseconds), or {@code Long.MAX_VALUE}. */
  long pitDeadline() {
    return pitDeadline;
  }

  /**
   * Raises IRQ 0 if the PIT's counter 0 fired since the last call. Called by the vCPUs when they
   * look for interrupts (block starts, the wait in {@code hlt}), with no local APIC lock held: the
   * PIT has no thread of its own, so a tick nobody looks for is coalesced, as the PIC's IRR would.
   * Also passes on the PIC's acknowledges of automatic-EOI mode (see {@link #drainPicAcks}).
   */
  void servicePit(long now) {
    drainPicAcks();
    Pit8254 p = pit;
    if (p == null || now < pitDeadline) {
      return;
    }
    List<Boolean> levels;
    synchronized (pitLock) {
      p.serviceIrq0();
      pitDeadline = p.nextIrq0Deadline();
      levels = drainIrq0();
    }
    for (boolean level : levels) {
      routing.setIrq(IrqRouting.SOURCE_PIT, 0, level);
    }
  }

  private List<Boolean> drainIrq0() {
    if (irq0.isEmpty()) {
      return List.of();
    }
    List<Boolean> levels = List.copyOf(irq0);
    irq0.clear();
    return levels;
  }

  boolean claimsPit(int port) {
    return pit != null
        && ((port >= Pit8254.COUNTER0 && port <= Pit8254.CONTROL) || port == Pit8254.PORT_B);
  }

  long pitAccess(boolean write, int port, int size, long data) {
    Pit8254 p = pit;
    List<Boolean> levels;
    synchronized (pitLock) {
      if (write) {
        p.write(port, size, data);
      } else {
        data = p.read(port, size);
      }
      pitDeadline = p.nextIrq0Deadline();
      levels = drainIrq0();
    }
    for (boolean level : levels) {
      routing.setIrq(IrqRouting.SOURCE_PIT, 0, level);
    }
    if (write) {
      wakeAll(); // a halted vCPU recomputes when to wake up
    }
    return data;
  }

  // The VM's irqfds, once it has any: each vCPU then waits in hlt on them too (HaltPoller).
  private volatile Irqfds irqfds;

  /** The local APIC of a new vCPU. */
  VcpuIrq attach(int vcpuId) {
    VcpuIrq irq = new VcpuIrq(this, vcpuId);
    vcpus.put(vcpuId, irq);
    Irqfds f = irqfds;
    if (f != null) {
      f.addPoller(irq);
    }
    return irq;
  }

  void detach(int vcpuId) {
    VcpuIrq irq = vcpus.remove(vcpuId);
    Irqfds f = irqfds;
    if (irq != null && f != null) {
      f.removePoller(irq);
    }
  }

  /** The VM's irqfds exist: every vCPU (and each one made later) gets a halt poller. */
  void irqfds(Irqfds f) {
    irqfds = f;
    for (VcpuIrq irq : vcpus.values()) {
      f.addPoller(irq);
    }
  }

  /**
   * Whether every vCPU is {@link VcpuIrq#parked parked}: none can send the NMI, INIT or SIPI that
   * would wake another. Each vCPU marks itself before it looks (volatile writes, then reads), so of
   * two vCPUs parking at once at least one sees both parked.
   */
  boolean everyVcpuParked() {
    for (VcpuIrq v : vcpus.values()) {
      if (!v.parked()) {
        return false;
      }
    }
    return true;
  }

  /** {@code KVM_IRQ_LINE}: the VMM's level of {@code gsi}, through the routing table. */
  void setIrq(int gsi, boolean level) {
    routing.setIrq(IrqRouting.SOURCE_USERSPACE, gsi, level);
  }

  /** The VM's GSI routing (KVM_SET_GSI_ROUTING, MSIs, irqfds' ack notifiers). */
  IrqRouting routing() {
    return routing;
  }

  /**
   * Drives PIC input {@code irq} (0-15) for {@code source}: the input is asserted while any source
   * asserts it (KVM's {@code kvm_pic_set_irq} with its per-source {@code irq_states}).
   */
  void setPicLine(int irq, int source, boolean level) {
    synchronized (picLock) {
      picSources[irq] = level ? picSources[irq] | 1 << source : picSources[irq] & ~(1 << source);
      pic.setIrq(irq, picSources[irq] != 0);
    }
  }

  /** Drives I/O APIC pin {@code pin} for {@code source}, as {@link #setPicLine}. */
  void setIoapicLine(int pin, int source, boolean level) {
    List<InterruptRequest> messages;
    synchronized (ioapicLock) {
      ioapicSources[pin] =
          level ? ioapicSources[pin] | 1 << source : ioapicSources[pin] & ~(1 << source);
      ioapic.setIrq(pin, ioapicSources[pin] != 0);
      messages = drainOutbox();
    }
    deliver(messages);
  }

  /**
   * An EOI of a level-triggered vector from a local APIC (no local APIC lock held), in KVM's order
   * ({@code kvm_ioapic_update_eoi_one}): the ack notifiers of each pin with that vector run first,
   * with no lock held (a resampling irqfd lowers its line there), then Remote IRR is cleared and a
   * line still asserted is sent again.
   */
  void levelEoi(int vector) {
    List<Integer> pins = new ArrayList<>(1);
    synchronized (ioapicLock) {
      for (int pin = 0; pin < IoApic.PINS; pin++) {
        long entry = ioapic.redirectionEntry(pin);
        if ((entry & IoApic.VECTOR) == (vector & 0xff) && (entry & IoApic.TRIGGER_LEVEL) != 0) {
          pins.add(pin);
        }
      }
    }
    for (int pin : pins) {
      routing.acked(dev.toykvm.kvm.KvmConstants.KVM_IRQCHIP_IOAPIC, pin);
    }
    List<InterruptRequest> messages;
    synchronized (ioapicLock) {
      ioapic.eoi(vector);
      messages = drainOutbox();
    }
    deliver(messages);
  }

  /**
   * Passes the PIC's EOIs (and automatic-EOI acknowledges) to the ack notifiers, with no lock held,
   * as KVM's {@code pic_clear_isr} drops the PIC lock for them: after each PIC port access, and
   * when a vCPU next looks for interrupts.
   */
  private void drainPicAcks() {
    List<Integer> irqs;
    synchronized (picLock) {
      if (picAcks.isEmpty()) {
        return;
      }
      irqs = List.copyOf(picAcks);
      picAcks.clear();
    }
    for (int irq : irqs) {
      routing.acked(
          irq < 8
              ? dev.toykvm.kvm.KvmConstants.KVM_IRQCHIP_PIC_MASTER
              : dev.toykvm.kvm.KvmConstants.KVM_IRQCHIP_PIC_SLAVE,
          irq);
    }
  }

  /**
   * An IPI from the local APIC of vCPU {@code from} (its ICR), delivered now to every local APIC it
   * addresses (SDM 11.6.1; KVM's kvm_irq_delivery_to_apic): see {@link IpiRouting}. Called with no
   * local APIC lock held.
   */
  void ipi(int from, Ipi ipi) {
    IpiRouting.deliver(from, ipi, vcpus.values());
  }

  private List<InterruptRequest> drainOutbox() {
    if (outbox.isEmpty()) {
      return List.of();
    }
    List<InterruptRequest> messages = List.copyOf(outbox);
    outbox.clear();
    return messages;
  }

  /** I/O APIC messages to the local APICs they address. */
  private void deliver(List<InterruptRequest> messages) {
    for (InterruptRequest m : messages) {
      deliverMessage(m);
    }
  }

  /**
   * An interrupt message (from the I/O APIC or an MSI) to the local APICs it addresses, KVM's
   * {@code kvm_irq_delivery_to_apic}: every one for fixed delivery, one chosen by vector hashing
   * for lowest priority ({@link IpiRouting#lowestPriority}; a physical broadcast is delivered to
   * all, as KVM does). Returns how many accepted it. Any thread, no local APIC lock held.
   */
  int deliverMessage(InterruptRequest m) {
    if (m.deliveryMode() == DeliveryMode.NMI || m.deliveryMode() == DeliveryMode.INIT) {
      // As KVM's __apic_accept_irq: every addressed APIC takes it, whatever the vector.
      int accepted = 0;
      for (VcpuIrq vcpu : vcpus.values()) {
        if (vcpu.matches(m.dest(), m.destMode())) {
          if (m.deliveryMode() == DeliveryMode.NMI) {
            vcpu.nmi();
          } else {
            vcpu.init();
          }
          accepted++;
        }
      }
      return accepted;
    }
    if (m.deliveryMode() != DeliveryMode.FIXED
        && m.deliveryMode() != DeliveryMode.LOWEST_PRIORITY) {
      if (!loggedUnsupportedMode) {
        loggedUnsupportedMode = true;
        log.info(
            "interrupt message {} dropped: SMI, ExtINT and the reserved modes are not delivered",
            m);
      }
      return 0;
    }
    if (m.deliveryMode() == DeliveryMode.LOWEST_PRIORITY
        && !(m.destMode() == dev.toykvm.kernel.irq.DestinationMode.PHYSICAL && m.dest() == 0xff)) {
      List<VcpuIrq> named = new ArrayList<>();
      for (VcpuIrq vcpu : vcpus.values()) {
        if (vcpu.matches(m.dest(), m.destMode())) {
          named.add(vcpu);
        }
      }
      named.sort(java.util.Comparator.comparingInt(VcpuIrq::id));
      VcpuIrq target = IpiRouting.lowestPriority(m.vector(), named);
      return target != null && target.accept(m) ? 1 : 0;
    }
    int accepted = 0;
    for (VcpuIrq vcpu : vcpus.values()) {
      if (vcpu.accept(m)) {
        accepted++;
      }
    }
    return accepted;
  }

  private void wakeAll() {
    for (VcpuIrq vcpu : vcpus.values()) {
      vcpu.wake();
    }
  }

  // ---- the PIC as seen by a local APIC's virtual wire (caller holds its local APIC lock) -------

  boolean picIntr() {
    synchronized (picLock) {
      return pic.intr();
    }
  }

  /** Acknowledges the PIC's interrupt; -1 if its INTR went down meanwhile. */
  int picAcknowledge() {
    synchronized (picLock) {
      return pic.intr() ? pic.acknowledge() : -1;
    }
  }

  // ---- the devices' registers, accessed by any vCPU ------------------------------------------

  static boolean claimsPio(int port) {
    return (port >= Pic8259Pair.MASTER_COMMAND && port <= Pic8259Pair.MASTER_DATA)
        || (port >= Pic8259Pair.SLAVE_COMMAND && port <= Pic8259Pair.SLAVE_DATA)
        || port == Pic8259Pair.ELCR_MASTER
        || port == Pic8259Pair.ELCR_SLAVE;
  }

  long pio(boolean write, int port, int size, long data) {
    synchronized (picLock) {
      if (write) {
        pic.write(port, size, data);
      } else {
        data = pic.read(port, size);
      }
    }
    drainPicAcks();
    if (write) {
      wakeAll(); // a new mask or EOI may let a waiting request through
    }
    return data;
  }

  static boolean claimsIoapic(long address) {
    return address >= IoApic.DEFAULT_BASE && address < IoApic.DEFAULT_BASE + IoApic.MMIO_SIZE;
  }

  long ioapicAccess(boolean write, long address, int size, long data) {
    long offset = address - IoApic.DEFAULT_BASE;
    List<InterruptRequest> messages;
    long value = 0;
    synchronized (ioapicLock) {
      if (write) {
        ioapic.write(offset, size, data);
      } else {
        value = ioapic.read(offset, size);
      }
      messages = drainOutbox();
    }
    deliver(messages);
    return value;
  }

  static boolean claimsLapic(long address) {
    return address >= Lapic.DEFAULT_BASE && address < Lapic.DEFAULT_BASE + Lapic.MMIO_SIZE;
  }
}
