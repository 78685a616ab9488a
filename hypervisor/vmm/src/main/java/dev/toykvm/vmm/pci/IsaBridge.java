package dev.toykvm.vmm.pci;

import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The PIIX3's PCI-to-ISA bridge at 00:01.0 (Intel 82371SB, function 0), which SeaBIOS looks for to
 * route PCI interrupts: vendor 0x8086, device 0x7000, class 0x060100 (ISA bridge), a multi-function
 * header (QEMU's PIIX3 has its IDE and USB functions beside it; toykvm has none yet), QEMU's
 * subsystem ids. No BARs.
 *
 * <p>Registers 0x40-0xff are plain storage, with the PIIX3's reset values where firmware reads
 * them: the PIRQ route control registers PIRQRC[A:D] (0x60-0x63) read 0x80 (routing disabled) until
 * written. A write that touches them tells the {@link #onPirqChange PIRQ listeners} ({@link
 * IntxRoute}s move their irqfds); {@link #pirqIrq} decodes a route. The ELCR (ports 0x4d0/0x4d1)
 * belongs to the kernel side's PIC, and the reset control register (0xcf9) to {@link PciConfigIo}.
 */
public final class IsaBridge extends PciDevice {
  public static final PciId ID =
      new PciId(
          PciId.INTEL, 0x7000, 0x00, 0x06_0100, PciId.QEMU_SUBSYSTEM_VENDOR, PciId.QEMU_SUBSYSTEM);

  /** PIRQRC[A]; B, C and D follow. */
  public static final int PIRQ_ROUTE = 0x60;

  /** PIRQRC's bit 7: the route is disabled. */
  public static final int PIRQ_DISABLED = 0x80;

  /** The ISA IRQs a PIRQ may be routed to (82371SB datasheet, PIRQRC bits 3:0). */
  private static final int VALID_IRQS =
      1 << 3 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 7 | 1 << 9 | 1 << 10 | 1 << 11 | 1 << 12 | 1 << 14
          | 1 << 15;

  private final List<Runnable> pirqListeners = new CopyOnWriteArrayList<>();

  public IsaBridge() {
    super("PIIX3 ISA bridge", ID, true, new Bar[0], 0);
    config().setWritableRange(0x40, ConfigSpace.SIZE - 0x40);
    // Reset values (82371SB datasheet): I/O, memory and bus master on; PIRQ routing disabled.
    config().set16(COMMAND, COMMAND_IO | COMMAND_MEMORY | COMMAND_BUS_MASTER);
    for (int i = 0; i < 4; i++) {
      config().set8(PIRQ_ROUTE + i, PIRQ_DISABLED);
    }
  }

  /**
   * Calls {@code listener} after every configuration write that touches PIRQRC[A:D], on the writing
   * thread, with the bridge's configuration lock held (so it may read the routes, and nothing else
   * of the bridge changes meanwhile).
   *
   * @return what removes the listener again
   */
  public Runnable onPirqChange(Runnable listener) {
    pirqListeners.add(listener);
    return () -> pirqListeners.remove(listener);
  }

  /**
   * The ISA IRQ PIRQ {@code pirq} (0-3: A-D) is routed to, or empty if its route is disabled (bit
   * 7) or names an IRQ the PIIX3 cannot route to (only 3-7, 9-12, 14 and 15 are valid).
   */
  public OptionalInt pirqIrq(int pirq) {
    int route = readConfig(PIRQ_ROUTE + pirq, 1);
    int irq = route & 0xf;
    if ((route & PIRQ_DISABLED) != 0 || (VALID_IRQS & 1 << irq) == 0) {
      return OptionalInt.empty();
    }
    return OptionalInt.of(irq);
  }

  /**
   * The PIRQ (0-3: A-D) that INTx pin {@code pin} (1-4: INTA#-INTD#) of a function in device {@code
   * slot} of bus 0 drives: (slot + pin - 1) mod 4, the swizzle of QEMU's i440FX board and of
   * SeaBIOS's tables.
   */
  public static int pirqOf(int slot, int pin) {
    if (pin < 1 || pin > 4 || slot < 0 || slot >= PciBus.DEVICES) {
      throw new IllegalArgumentException(
          "cannot route INTx: slot %d pin %d is not a device 0-31 with a pin 1-4"
              .formatted(slot, pin));
    }
    return (slot + pin - 1) & 3;
  }

  @Override
  protected void configWritten(int offset, int size) {
    if (offset < PIRQ_ROUTE + 4 && offset + size > PIRQ_ROUTE) {
      for (Runnable l : pirqListeners) {
        l.run();
      }
    }
  }
}
