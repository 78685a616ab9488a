package dev.toykvm.vmm.pci;

/**
 * The PC's host bridge at 00:00.0 with the identity of the Intel 82441FX (i440FX) PMC, the one
 * QEMU's {@code pc} machine has and SeaBIOS looks for: vendor 0x8086, device 0x1237, revision 2,
 * class 0x060000 (host bridge), QEMU's subsystem ids (0x1af4:0x1100). No BARs, no interrupt.
 *
 * <p>Registers 0x40-0xff are plain storage (as QEMU keeps a device's own registers), but for:
 *
 * <ul>
 *   <li>PAM0-PAM6 (0x59-0x5f): writing them remaps 0xc0000-0xfffff ({@link Pam});
 *   <li>SMRAM (0x72): read-only 0x02 (SMRAM closed, at 0xa0000): toykvm has no SMM, so the register
 *       stays closed.
 * </ul>
 */
public final class HostBridge extends PciDevice {
  public static final PciId ID =
      new PciId(
          PciId.INTEL, 0x1237, 0x02, 0x06_0000, PciId.QEMU_SUBSYSTEM_VENDOR, PciId.QEMU_SUBSYSTEM);

  public static final int SMRAM = 0x72;
  private static final int SMRAM_CLOSED_AT_A0000 = 0x02;

  private final Pam pam;

  /**
   * @param pam the shadow map the PAM registers drive, or {@code null} for a bridge without memory
   *     (tests)
   */
  public HostBridge(Pam pam) {
    super("i440FX host bridge", ID, false, new Bar[0], 0);
    this.pam = pam;
    config().setWritableRange(0x40, ConfigSpace.SIZE - 0x40);
    config().set8(SMRAM, SMRAM_CLOSED_AT_A0000);
    config().setWritable(SMRAM, 1, 0);
  }

  @Override
  protected void configWritten(int offset, int size) {
    if (pam != null && offset < Pam.PAM0 + Pam.REGISTERS && offset + size > Pam.PAM0) {
      int[] registers = new int[Pam.REGISTERS];
      for (int i = 0; i < Pam.REGISTERS; i++) {
        registers[i] = config().get8(Pam.PAM0 + i);
      }
      pam.update(registers);
    }
  }
}
