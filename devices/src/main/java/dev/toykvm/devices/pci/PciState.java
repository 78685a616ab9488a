package dev.toykvm.devices.pci;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The configuration-space bits a PCI device model outside the VMM acts on. The VMM sends the whole
 * state again each time one of them changes, as an {@link #ENCODED_SIZE}-byte message ({@link
 * #encode}) on a pipe the device process polls beside its ioregionfd commands; the VMM writes it
 * before it completes the guest's configuration write, and the device reads its pending state
 * messages before its next command, so the device never serves an access the guest made after the
 * change with the old state.
 *
 * <pre>
 * bytes 0-3  magic "PCIS" (0x53494350 little-endian)
 * bytes 4-7  flags, little-endian: bit 0 bus master (command bit 2), bit 1 INTx disable (command
 *            bit 10), bit 2 MSI-X enable, bit 3 MSI-X function mask; the other bits are 0
 * </pre>
 *
 * @param busMaster the function may do DMA (command register bit 2)
 * @param intxDisabled the function must not assert INTx (command register bit 10)
 * @param msixEnabled MSI-X is on (MSI-X message control bit 15): interrupts are MSI-X vectors
 * @param msixFunctionMask every vector is masked (message control bit 14; the VMM holds them
 *     pending, so a model may ignore it)
 */
public record PciState(
    boolean busMaster, boolean intxDisabled, boolean msixEnabled, boolean msixFunctionMask) {

  /** A function after reset: no DMA, INTx allowed, MSI-X off. */
  public static final PciState RESET = new PciState(false, false, false, false);

  /** Bytes in one message. */
  public static final int ENCODED_SIZE = 8;

  /** The message's first four bytes, "PCIS", read little-endian. */
  public static final int MAGIC = 0x53494350;

  private static final int BUS_MASTER = 1;
  private static final int INTX_DISABLED = 2;
  private static final int MSIX_ENABLED = 4;
  private static final int MSIX_FUNCTION_MASK = 8;

  /** The message for this state. */
  public byte[] encode() {
    int flags =
        (busMaster ? BUS_MASTER : 0)
            | (intxDisabled ? INTX_DISABLED : 0)
            | (msixEnabled ? MSIX_ENABLED : 0)
            | (msixFunctionMask ? MSIX_FUNCTION_MASK : 0);
    return ByteBuffer.allocate(ENCODED_SIZE)
        .order(ByteOrder.LITTLE_ENDIAN)
        .putInt(MAGIC)
        .putInt(flags)
        .array();
  }

  /**
   * Reads a message.
   *
   * @throws IllegalArgumentException if it is not {@link #ENCODED_SIZE} bytes, the magic is wrong,
   *     or an undefined flag is set
   */
  public static PciState decode(byte[] message) {
    if (message.length != ENCODED_SIZE) {
      throw new IllegalArgumentException(
          "a PCI state message is " + ENCODED_SIZE + " bytes, not " + message.length);
    }
    ByteBuffer b = ByteBuffer.wrap(message).order(ByteOrder.LITTLE_ENDIAN);
    int magic = b.getInt();
    int flags = b.getInt();
    if (magic != MAGIC) {
      throw new IllegalArgumentException(
          "not a PCI state message: magic 0x%08x, not 0x%08x".formatted(magic, MAGIC));
    }
    if ((flags & ~0xf) != 0) {
      throw new IllegalArgumentException(
          "PCI state message with undefined flags 0x%08x".formatted(flags));
    }
    return new PciState(
        (flags & BUS_MASTER) != 0,
        (flags & INTX_DISABLED) != 0,
        (flags & MSIX_ENABLED) != 0,
        (flags & MSIX_FUNCTION_MASK) != 0);
  }
}
