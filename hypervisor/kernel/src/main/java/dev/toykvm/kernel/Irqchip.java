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
 * APIC lock is released. So no two threads can wait for each other.
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
            });
    ioapic = new IoApic(outbox::add, pin -> {});
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
   */
  void servicePit(long now) {
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
      setIrq(0, level);
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
      setIrq(0, level);
    }
    if (write) {
      wakeAll(); // a halted vCPU recomputes when to wake up
    }
    return data;
  }

  /** The local APIC of a new vCPU. */
  VcpuIrq attach(int vcpuId) {
    VcpuIrq irq = new VcpuIrq(this, vcpuId);
    vcpus.put(vcpuId, irq);
    return irq;
  }

  void detach(int vcpuId) {
    vcpus.remove(vcpuId);
  }

  /** {@code KVM_IRQ_LINE} with KVM's default routing (see {@code VmFd.irqLine}). */
  void setIrq(int gsi, boolean level) {
    if (gsi >= GSIS) {
      return;
    }
    if (gsi < 16) {
      synchronized (picLock) {
        pic.setIrq(gsi, level);
      }
    }
    List<InterruptRequest> messages;
    synchronized (ioapicLock) {
      ioapic.setIrq(gsi, level); // KVM's default routing is the identity: GSI n, pin n
      messages = drainOutbox();
    }
    deliver(messages);
  }

  /** An EOI of a level-triggered vector from a local APIC (no local APIC lock held). */
  void levelEoi(int vector) {
    List<InterruptRequest> messages;
    synchronized (ioapicLock) {
      ioapic.eoi(vector);
      messages = drainOutbox();
    }
    deliver(messages);
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

  /** I/O APIC messages to the local APICs they address (KVM's kvm_irq_delivery_to_apic). */
  private void deliver(List<InterruptRequest> messages) {
    for (InterruptRequest m : messages) {
      if (m.deliveryMode() != DeliveryMode.FIXED
          && m.deliveryMode() != DeliveryMode.LOWEST_PRIORITY) {
        if (!loggedUnsupportedMode) {
          loggedUnsupportedMode = true;
          log.info("I/O APIC message {} dropped: only fixed and lowest priority are delivered", m);
        }
        continue;
      }
      for (VcpuIrq vcpu : vcpus.values()) {
        if (vcpu.accept(m) && m.deliveryMode() == DeliveryMode.LOWEST_PRIORITY) {
          break;
        }
      }
    }
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
