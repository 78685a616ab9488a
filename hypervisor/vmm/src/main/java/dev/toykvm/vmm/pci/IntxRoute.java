package dev.toykvm.vmm.pci;

import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmIrqfd;
import dev.toykvm.kvm.VmFd;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PCI function's INTx line as a device process drives it (a level irqfd and its resamplefd, with
 * KVM's resample contract), registered ({@code KVM_IRQFD} with {@code KVM_IRQFD_FLAG_RESAMPLE}) on
 * the GSI the PIIX3 routes the function's pin to: the pin drives PIRQ (slot + pin - 1) mod 4
 * ({@link IsaBridge#pirqOf}), whose PIRQRC register names an ISA IRQ, and KVM's default table
 * routes GSI n to IRQ n of the 8259s and pin n of the I/O APIC.
 *
 * <p>When the guest writes a PIRQRC register, the irqfd moves: deassigned from the old GSI (which
 * lowers the line there), assigned on the new one (a level still raised is raised again there: the
 * eventfd holds it, or the device raises it again after the resample the deassign does not send).
 * While the route is disabled (bit 7) or names an IRQ the PIIX3 cannot route to, nothing is
 * registered and the line goes nowhere, as on the chipset. A GSI routed as an MSI is refused (an
 * MSI is never acknowledged, so the line would never be resampled), and so is a registration the
 * kernel side refuses: both logged, the line going nowhere until the next PIRQ change.
 *
 * <p>Thread-safe; PIRQ changes arrive on the writing vCPU's thread with the bridge's lock held
 * (lock order: the bridge's, then this). The eventfds belong to the caller, which closes them after
 * {@link #close()}.
 */
public final class IntxRoute implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(IntxRoute.class);

  private final String name;
  private final VmFd vm;
  private final GsiTable gsis;
  private final IsaBridge isa;
  private final int pirq;
  private final int levelFd;
  private final int resampleFd;
  private final Runnable unlisten;
  private int gsi = -1; // where the irqfd is assigned now, or -1
  private boolean closed;
  private boolean saidNoIrqchip;

  /**
   * Registers the irqfd on the pin's current route (none while it is disabled) and follows the
   * bridge's PIRQ routes from now on.
   *
   * @param name the function's name in messages
   * @param slot the function's device number on bus 0
   * @param pin its interrupt pin, 1-4 (INTA#-INTD#)
   * @param levelFd the eventfd the device writes to raise the line
   * @param resampleFd the eventfd the kernel side writes when the guest ends the interrupt
   * @throws IllegalArgumentException if the slot or the pin is out of range
   */
  public IntxRoute(
      String name,
      VmFd vm,
      GsiTable gsis,
      IsaBridge isa,
      int slot,
      int pin,
      int levelFd,
      int resampleFd) {
    this.name = name;
    this.vm = vm;
    this.gsis = gsis;
    this.isa = isa;
    this.pirq = IsaBridge.pirqOf(slot, pin);
    this.levelFd = levelFd;
    this.resampleFd = resampleFd;
    this.unlisten = isa.onPirqChange(this::pirqChanged); // first, so no change is missed
    pirqChanged();
  }

  /** The PIRQ (0-3: A-D) the function's pin drives. */
  public int pirq() {
    return pirq;
  }

  /** The GSI the irqfd is registered on now, or empty. */
  public synchronized OptionalInt gsi() {
    return gsi < 0 ? OptionalInt.empty() : OptionalInt.of(gsi);
  }

  /** Moves the irqfd to the GSI the PIRQ is routed to now (nothing if it did not change). */
  private void pirqChanged() {
    OptionalInt irq = isa.pirqIrq(pirq);
    synchronized (this) {
      int target = irq.orElse(-1);
      if (closed || target == gsi) {
        return;
      }
      if (!gsis.irqchip()) {
        if (!saidNoIrqchip) {
          saidNoIrqchip = true;
          log.info("intx: {}'s INTx goes nowhere: no irqchip", name);
        }
        return;
      }
      deassign();
      if (target < 0) {
        log.debug("intx: {}: PIRQ{} disabled, INTx goes nowhere", name, (char) ('A' + pirq));
        return;
      }
      if (gsis.isMsi(target)) {
        log.warn(
            "intx: cannot route {}'s INTx to GSI {}: it is an MSI route (an MSI is never"
                + " acknowledged, so the level line would never be resampled); INTx goes nowhere",
            name,
            target);
        return;
      }
      try {
        vm.irqfd(new KvmIrqfd(levelFd, target, 0, 0).withResample(resampleFd));
        gsi = target;
        log.debug("intx: {}: PIRQ{} -> GSI {}", name, (char) ('A' + pirq), target);
      } catch (KvmException e) {
        log.warn(
            "intx: cannot route {}'s INTx to GSI {}: {}; INTx goes nowhere",
            name,
            target,
            e.getMessage());
      }
    }
  }

  private void deassign() {
    if (gsi < 0) {
      return;
    }
    int old = gsi;
    gsi = -1;
    try {
      vm.irqfd(new KvmIrqfd(levelFd, old, 0, 0).withResample(resampleFd).deassign());
    } catch (KvmException e) {
      log.debug("intx: {}: deassign from GSI {}: {}", name, old, e.getMessage());
    }
  }

  /** Stops following the PIRQ routes and deassigns the irqfd. Idempotent. */
  @Override
  public void close() {
    unlisten.run();
    synchronized (this) {
      if (!closed) {
        closed = true;
        deassign();
      }
    }
  }
}
