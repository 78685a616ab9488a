package dev.toykvm.vmm.pci;

import dev.toykvm.devices.pci.PciState;
import java.util.function.Consumer;

/**
 * The NVMe controller's PCI function as QEMU's {@code nvme} device presents it (ids 1b36:0010,
 * class 0x010802: mass storage, non-volatile memory, NVM Express; revision 2; QEMU's subsystem ids;
 * INTA#). Its configuration space lives here, in the VMM; the controller model is elsewhere (its
 * own process or an object in the VMM) and only sees BAR0 and the {@link PciState} this function
 * sends it.
 *
 * <pre>
 * BAR0-1  64-bit non-prefetchable memory, 16 KiB: registers 0x0-0xfff, doorbells from 0x1000
 *         (served by the model: ioregionfd with posted writes, the VMM's RemoteDevice, or in-process)
 * BAR4    32-bit memory, 8 KiB: the MSI-X table at 0 and the PBA at 0x1000 (served by the VMM)
 * 0x40    MSI-X capability: vectors = I/O queues + 1 (vector 0 is the admin queue's)
 * </pre>
 *
 * <p>After every configuration write that changes bus master (command bit 2), INTx disable (command
 * bit 10), MSI-X enable or the function mask, the new state goes to the state sink (the device
 * process's state pipe, or the model in the VMM) before the write completes: so the model never
 * serves a later access with the old state.
 */
public final class NvmeFunction extends PciDevice {
  /** QEMU's NVMe ids. */
  public static final PciId ID =
      new PciId(
          0x1b36, 0x0010, 0x02, 0x01_08_02, PciId.QEMU_SUBSYSTEM_VENDOR, PciId.QEMU_SUBSYSTEM);

  public static final int REGISTERS_BAR = 0;
  public static final long REGISTERS_SIZE = 0x4000;
  public static final int MSIX_BAR = 4;
  public static final long MSIX_BAR_SIZE = 0x2000;
  public static final long MSIX_TABLE_OFFSET = 0;
  public static final long MSIX_PBA_OFFSET = 0x1000;

  /** Command register bit 10. */
  public static final int COMMAND_INTX_DISABLE = 0x400;

  private static final int INTA = 1;

  private final int msixCapability;
  private final int vectors;
  private final Consumer<PciState> stateSink;
  private PciState sent = PciState.RESET;
  private final java.util.List<Runnable> afterWrite =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * @param name the function's name in messages
   * @param vectors MSI-X vectors (I/O queues + 1), 2 to 17
   * @param stateSink told each new {@link PciState}, on the thread of the configuration write
   */
  public NvmeFunction(String name, int vectors, Consumer<PciState> stateSink) {
    super(
        name,
        ID,
        false,
        new Bar[] {
          Bar.memory64(REGISTERS_SIZE, false), null, null, null, Bar.memory32(MSIX_BAR_SIZE), null
        },
        INTA);
    this.vectors = vectors;
    this.stateSink = stateSink;
    this.msixCapability =
        MsixCapability.add(this, vectors, MSIX_BAR, MSIX_TABLE_OFFSET, MSIX_BAR, MSIX_PBA_OFFSET);
  }

  /** The MSI-X capability's offset in configuration space. */
  public int msixCapability() {
    return msixCapability;
  }

  /** MSI-X vectors. */
  public int vectors() {
    return vectors;
  }

  /** The state last sent to the model. */
  public synchronized PciState state() {
    return sent;
  }

  /** The state the configuration registers say now. */
  private PciState current() {
    int command = config().get16(COMMAND);
    int control = config().get16(msixCapability + 2);
    return new PciState(
        (command & COMMAND_BUS_MASTER) != 0,
        (command & COMMAND_INTX_DISABLE) != 0,
        (control & MsixCapability.CONTROL_ENABLE) != 0,
        (control & MsixCapability.CONTROL_FUNCTION_MASK) != 0);
  }

  /**
   * Runs {@code r} after every configuration write, once the state is sent: for the MSI-X vectors'
   * routing, which reads the enable and mask bits then (e.g. {@code MsixVectors::configChanged}).
   */
  public void afterConfigWrite(Runnable r) {
    afterWrite.add(r);
  }

  @Override
  protected void configWritten(int offset, int size) {
    PciState now = current();
    if (!now.equals(sent)) {
      sent = now;
      stateSink.accept(now);
    }
    afterWrite.forEach(Runnable::run);
  }

  /**
   * A listener that routes BAR0 (the registers) and BAR4 (the MSI-X table and PBA) to two
   * listeners: the model's route and the VMM's MSI-X table.
   */
  public static BarListener routes(BarListener registers, BarListener msix) {
    return new BarListener() {
      @Override
      public void mapped(BarMapping m) {
        pick(m).mapped(m);
      }

      @Override
      public void unmapped(BarMapping m) {
        pick(m).unmapped(m);
      }

      private BarListener pick(BarMapping m) {
        return m.bar() == REGISTERS_BAR ? registers : m.bar() == MSIX_BAR ? msix : NONE;
      }
    };
  }
}
