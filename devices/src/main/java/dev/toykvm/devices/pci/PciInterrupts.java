package dev.toykvm.devices.pci;

/**
 * The interrupts of a PCI function as its device model raises them. Where they go is the VMM's
 * business: an MSI-X vector is an edge irqfd whose GSI the VMM routes from the guest's MSI-X table
 * entry (or holds pending while the entry is masked); INTx is a level irqfd with a resamplefd on
 * the GSI the PIIX3's PIRQ routing gives the function's pin.
 *
 * <p>The model decides which of the two to use from {@link PciState}: MSI-X while {@link
 * PciState#msixEnabled()}, INTx otherwise unless {@link PciState#intxDisabled()}.
 */
public interface PciInterrupts {

  /** Signals MSI-X vector {@code vector} once (an edge; the VMM holds it pending if masked). */
  void msix(int vector);

  /** Sets the INTx pin's level: {@code true} asserted, {@code false} deasserted. */
  void intx(boolean asserted);

  /** Interrupts that go nowhere (a model with no irqfds, in a test). */
  PciInterrupts NONE =
      new PciInterrupts() {
        @Override
        public void msix(int vector) {}

        @Override
        public void intx(boolean asserted) {}
      };
}
