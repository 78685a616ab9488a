package dev.toykvm.vmm.pci;

/**
 * The PIIX3's PCI-to-ISA bridge at 00:01.0 (Intel 82371SB, function 0), which SeaBIOS looks for to
 * route PCI interrupts: vendor 0x8086, device 0x7000, class 0x060100 (ISA bridge), a multi-function
 * header (QEMU's PIIX3 has its IDE and USB functions beside it; toykvm has none yet), QEMU's
 * subsystem ids. No BARs.
 *
 * <p>Registers 0x40-0xff are plain storage, with the PIIX3's reset values where firmware reads
 * them: the PIRQ route control registers PIRQRC[A:D] (0x60-0x63) read 0x80 (routing disabled) until
 * written. The routes are only stored: interrupts come with a later issue. The ELCR (ports
 * 0x4d0/0x4d1) belongs to the kernel side's PIC, and the reset control register (0xcf9) to {@link
 * PciConfigIo}.
 */
public final class IsaBridge extends PciDevice {
  public static final PciId ID =
      new PciId(
          PciId.INTEL, 0x7000, 0x00, 0x06_0100, PciId.QEMU_SUBSYSTEM_VENDOR, PciId.QEMU_SUBSYSTEM);

  /** PIRQRC[A]; B, C and D follow. */
  public static final int PIRQ_ROUTE = 0x60;

  private static final int PIRQ_DISABLED = 0x80;

  public IsaBridge() {
    super("PIIX3 ISA bridge", ID, true, new Bar[0], 0);
    config().setWritableRange(0x40, ConfigSpace.SIZE - 0x40);
    // Reset values (82371SB datasheet): I/O, memory and bus master on; PIRQ routing disabled.
    config().set16(COMMAND, COMMAND_IO | COMMAND_MEMORY | COMMAND_BUS_MASTER);
    for (int i = 0; i < 4; i++) {
      config().set8(PIRQ_ROUTE + i, PIRQ_DISABLED);
    }
  }
}
