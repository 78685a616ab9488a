package dev.toykvm.vmm.pci;

/**
 * The MSI-X capability (id 0x11, PCI Local Bus Specification 3.0 section 6.8.2): where the vector
 * table and the pending bit array are, in which memory BAR. Structure only: the table's entries and
 * the interrupts they send are the device's (a later issue).
 *
 * <pre>
 * +0 id 0x11, next   +2 message control: table size - 1 (bits 10:0, read-only), function mask
 *                       (bit 14) and MSI-X enable (bit 15), writable
 * +4 table offset (bits 31:3) | BAR indicator (bits 2:0)
 * +8 PBA offset (bits 31:3) | BAR indicator (bits 2:0)
 * </pre>
 */
public final class MsixCapability {
  public static final int ID = 0x11;
  public static final int LENGTH = 12;
  public static final int CONTROL_ENABLE = 0x8000;
  public static final int CONTROL_FUNCTION_MASK = 0x4000;

  /** Bytes per vector table entry: message address (64 bits), data, vector control. */
  public static final int ENTRY_SIZE = 16;

  private MsixCapability() {}

  /**
   * Adds the capability to {@code device}.
   *
   * @param vectors table entries, 1 to 2048
   * @param tableBar the memory BAR holding the table; {@code tableOffset} 8-aligned in it
   * @param pbaBar the memory BAR holding the pending bit array; {@code pbaOffset} 8-aligned in it
   * @return the capability's offset in configuration space
   * @throws IllegalArgumentException if a BAR is not a memory BAR of the device, or the table or
   *     array does not fit in it
   */
  public static int add(
      PciDevice device, int vectors, int tableBar, long tableOffset, int pbaBar, long pbaOffset) {
    if (vectors < 1 || vectors > 2048) {
      throw new IllegalArgumentException(
          "cannot add MSI-X to %s: %d vectors is not 1-2048".formatted(device.name(), vectors));
    }
    checkFits(device, "table", tableBar, tableOffset, (long) vectors * ENTRY_SIZE);
    checkFits(device, "PBA", pbaBar, pbaOffset, (vectors + 63) / 64 * 8L);
    int at = device.addCapability(ID, LENGTH);
    ConfigSpace c = device.config();
    c.set16(at + 2, vectors - 1);
    c.setWritable(at + 2, 2, CONTROL_ENABLE | CONTROL_FUNCTION_MASK);
    c.set32(at + 4, (int) tableOffset | tableBar);
    c.set32(at + 8, (int) pbaOffset | pbaBar);
    return at;
  }

  private static void checkFits(PciDevice device, String what, int bar, long offset, long length) {
    Bar b = bar >= 0 && bar < PciDevice.BARS ? device.bars()[bar] : null;
    if (b == null || b.kind() == Bar.Kind.IO) {
      throw new IllegalArgumentException(
          "cannot add MSI-X to %s: its %s's BAR%d is not a memory BAR"
              .formatted(device.name(), what, bar));
    }
    if ((offset & 7) != 0 || offset < 0 || offset + length > b.size()) {
      throw new IllegalArgumentException(
          "cannot add MSI-X to %s: its %s (0x%x bytes at 0x%x) does not fit 8-aligned in BAR%d (0x%x bytes)"
              .formatted(device.name(), what, length, offset, bar, b.size()));
    }
  }
}
