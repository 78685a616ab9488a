package dev.toykvm.devices;

import dev.toykvm.devices.pc.PcTestdev;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * The kinds of device toykvm can put on a machine: the device models it has ({@link #UART}, {@link
 * #TESTDEV}), which can run in the VMM, in a test or in their own JVM ({@link DeviceMain}), and
 * {@link #EXEC}, any program that speaks the ioregionfd wire protocol.
 */
public enum DeviceKind {
  /** A 16550A UART ({@link Uart16550}); what the guest transmits goes to an output. */
  UART("uart", 8),
  /** The RFC's test device ({@link TestDevice}). */
  TESTDEV("testdev", TestDevice.PIO_SIZE),
  /**
   * QEMU's pc-testdev ({@link PcTestdev}), its port range 0xe0-0xeb, plus (as {@link
   * #extraWindows()}) its IRQ-line ports 0x2000-0x2017 and 64 KiB MMIO window at 0xff000000. Its
   * IRQ lines drive the irqfds it was given ({@code irq=}); without any they are only logged (to
   * stderr, in a device process).
   */
  PC_TESTDEV("pc-testdev", PcTestdev.PIO_SIZE),
  /**
   * An NVMe controller on PCI ({@code dev.toykvm.devices.nvme}), its BAR0 (registers and doorbells,
   * 16 KiB) served by the model; it needs its disk, guest RAM for DMA and its PCI state, so it is
   * made by {@link NvmeHost}, not by {@link #create}.
   */
  NVME("nvme", NvmeHost.BAR0_SIZE),
  /** A program of the user's: no model here, no default size. */
  EXEC("exec", 0);

  private final String label;
  private final long defaultSize;

  DeviceKind(String label, long defaultSize) {
    this.label = label;
    this.defaultSize = defaultSize;
  }

  /** The name on the command line, e.g. {@code uart}. */
  public String label() {
    return label;
  }

  /** The size used when none is given; empty for {@link #EXEC}, which must give one. */
  public OptionalLong defaultSize() {
    return defaultSize == 0 ? OptionalLong.empty() : OptionalLong.of(defaultSize);
  }

  /** Whether toykvm has the device model (everything but {@link #EXEC}). */
  public boolean isModel() {
    return this != EXEC;
  }

  /**
   * Whether the device is a PCI function: its configuration space lives in the VMM, its BARs are
   * placed by firmware or the VMM, it gets its PCI state on a pipe and does DMA into guest RAM.
   */
  public boolean isPci() {
    return this == NVME;
  }

  /** Whether the device has an output stream besides the bus (the UART's transmitter). */
  public boolean hasOutput() {
    return this == UART;
  }

  /**
   * Makes the device model, its interrupt lines going nowhere (a UART's interrupt output is only
   * visible in IIR; pc-testdev logs its lines on stderr).
   *
   * @param output where a UART's transmitted bytes go; ignored by the others
   * @throws IllegalStateException for {@link #EXEC}, which has no model
   */
  public BusDevice create(OutputStream output) {
    return create(output, null, OptionalInt.empty());
  }

  /** The ISA IRQ of COM1, the UART's line when none is given. */
  public static final int COM1_IRQ = 4;

  /**
   * Makes the device model with its interrupt lines on {@code irq}.
   *
   * @param output where a UART's transmitted bytes go; ignored by the others
   * @param irq the lines the device drives, or null for none
   * @param uartIrq the line a UART's interrupt output drives ({@link #COM1_IRQ} if empty)
   * @throws IllegalStateException for {@link #EXEC}, which has no model
   */
  public BusDevice create(OutputStream output, IrqLine irq, OptionalInt uartIrq) {
    IrqLine none = (line, level) -> {};
    return switch (this) {
      case UART ->
          new Uart16550(
              output, irq == null ? none : irq, uartIrq.orElse(COM1_IRQ), System::nanoTime);
      case TESTDEV -> new TestDevice(irq == null ? none : irq);
      case PC_TESTDEV ->
          new PcTestdev(
              irq != null
                  ? irq
                  : (line, level) ->
                      System.err.printf(
                          "pc-testdev: IRQ %d %s (not delivered: the device has no irqfd)%n",
                          line, level ? "raised" : "lowered"));
      case NVME ->
          throw new IllegalStateException(
              "an nvme device needs its disk, guest RAM and PCI state: NvmeHost makes it");
      case EXEC -> throw new IllegalStateException("an exec device has no model in toykvm");
    };
  }

  /**
   * A window of a device beyond its main range, served by the same process over the same fds.
   *
   * @param number the window's number (1, 2, ...): bits 48-55 of its regions' {@code user_data}
   *     ({@link BusDeviceHandler#WINDOW_SHIFT})
   * @param pio port I/O, else MMIO
   * @param base where QEMU puts it
   * @param size its size
   */
  public record Window(int number, boolean pio, long base, long size) {}

  /** The extra windows: pc-testdev's IRQ-line ports and MMIO window; none for the others. */
  public List<Window> extraWindows() {
    if (this != PC_TESTDEV) {
      return List.of();
    }
    return List.of(
        new Window(1, true, PcTestdev.IRQ_LINE_BASE, PcTestdev.IRQ_LINE_COUNT),
        new Window(2, false, PcTestdev.IOMEM_BASE, PcTestdev.IOMEM_SIZE));
  }

  /** The device windows of a model made by {@link #create}: main range first, then extras. */
  public static List<BusDevice> windows(BusDevice device) {
    if (device instanceof PcTestdev t) {
      return List.of(t, t.irqLines(), t.iomem());
    }
    return List.of(device);
  }

  /** The handler that serves the model in a device process, all its windows included. */
  public BusDeviceHandler handler(OutputStream output) {
    return handlerFor(create(output));
  }

  /** The handler that serves {@code device}, a model of this kind, all its windows included. */
  public BusDeviceHandler handlerFor(BusDevice device) {
    return extraWindows().isEmpty()
        ? BusDeviceHandler.of(device)
        : BusDeviceHandler.byWindow(windows(device));
  }

  /** The kind named {@code label} ({@code uart}, {@code testdev}, {@code exec}). */
  public static Optional<DeviceKind> byLabel(String label) {
    return Arrays.stream(values()).filter(k -> k.label.equals(label)).findFirst();
  }

  /** The models' labels, for messages: {@code "uart, testdev"}. */
  public static String modelLabels() {
    return Arrays.stream(values())
        .filter(DeviceKind::isModel)
        .map(DeviceKind::label)
        .collect(Collectors.joining(", "));
  }
}
