package dev.toykvm.devices;

import java.io.OutputStream;
import java.util.Arrays;
import java.util.Optional;
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
   * QEMU's pc-testdev ({@link dev.toykvm.devices.pc.PcTestdev}), its port range 0xe0-0xeb. Its IRQ
   * lines are only logged (to stderr, in a device process): toykvm has no interrupt controller
   * wired to devices yet.
   */
  PC_TESTDEV("pc-testdev", dev.toykvm.devices.pc.PcTestdev.PIO_SIZE),
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

  /** Whether the device has an output stream besides the bus (the UART's transmitter). */
  public boolean hasOutput() {
    return this == UART;
  }

  /**
   * Makes the device model.
   *
   * @param output where a UART's transmitted bytes go; ignored by the others
   * @throws IllegalStateException for {@link #EXEC}, which has no model
   */
  public BusDevice create(OutputStream output) {
    return switch (this) {
      case UART -> new Uart16550(output);
      case TESTDEV -> new TestDevice();
      case PC_TESTDEV ->
          new dev.toykvm.devices.pc.PcTestdev(
              (irq, level) ->
                  System.err.printf(
                      "pc-testdev: IRQ %d %s (not delivered: no interrupt controller yet)%n",
                      irq, level ? "raised" : "lowered"));
      case EXEC -> throw new IllegalStateException("an exec device has no model in toykvm");
    };
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
