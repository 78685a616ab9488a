package dev.toykvm.devices;

import dev.toykvm.devices.pci.PciStatePipe;
import dev.toykvm.ioregionfd.SideEvents;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.PosixException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.OptionalLong;
import java.util.function.LongSupplier;

/**
 * What a device process waits for besides its commands ({@link SideEvents}): the resamplefds of its
 * level irqfds ({@link IrqfdLines#resampled}), for a UART its serial input and its character
 * timeout, and for a PCI function its PCI state pipe ({@link PciStatePipe}).
 *
 * <p>The state pipe is ordered with the commands ({@link #ordered()}): the VMM writes a state
 * message before it completes the guest's configuration write, so the server reads pending messages
 * after each read of commands and before serving them; no access the guest made after the change is
 * served with the old state. (Commands the guest made before it but read in the same batch may see
 * the new state early, which the contract allows.)
 *
 * <p>The input is read with back-pressure, as a terminal with RTS/CTS flow control sends: only
 * while the guest asserts RTS and the UART's receiver has room ({@link Uart16550#sendWindow()}),
 * and no more bytes than it has room for, so that nothing typed or piped is ever lost (an overrun
 * never comes from the input; the sender waits). At EOF (the pipe's writer closed, or Ctrl-D on a
 * terminal) or a read error the input is closed and never waited on again; the device goes on
 * serving. A terminal is read as it is (its line discipline decides: in the usual canonical mode a
 * line arrives once Enter is pressed, echoed by the terminal itself).
 */
final class DeviceEvents implements SideEvents {
  private static final int INPUT_CHUNK = 4096;

  private final String name;
  private final IrqfdLines irqs;
  private final int[] resampleFds;
  private final Uart16550 uart;
  private final LongSupplier clock;
  private final PrintStream log;
  private final MemorySegment buffer = Arena.ofAuto().allocate(INPUT_CHUNK);
  private final PciStatePipe state;
  private int inputFd;
  private long inputBytes;

  /**
   * @param irqs the device's irqfds
   * @param uart the device if it is a UART, else null
   * @param inputFd the fd its serial input comes from, or -1 (only with a UART)
   * @param clock the UART's clock (monotonic nanoseconds)
   * @param log where the end of the input is said
   */
  DeviceEvents(
      String name,
      IrqfdLines irqs,
      Uart16550 uart,
      int inputFd,
      LongSupplier clock,
      PrintStream log) {
    this(name, irqs, uart, inputFd, clock, log, null);
  }

  /**
   * @param state a PCI function's state pipe, or null
   */
  DeviceEvents(
      String name,
      IrqfdLines irqs,
      Uart16550 uart,
      int inputFd,
      LongSupplier clock,
      PrintStream log,
      PciStatePipe state) {
    if (inputFd >= 0 && uart == null) {
      throw new IllegalArgumentException("cannot take serial input: " + name + " is not a uart");
    }
    this.name = name;
    this.irqs = irqs;
    this.resampleFds = irqs.resampleFds();
    this.uart = uart;
    this.inputFd = inputFd;
    this.clock = clock;
    this.log = log;
    this.state = state;
  }

  /** Whether there is anything to wait for besides commands. */
  boolean any() {
    return resampleFds.length > 0 || uart != null || state != null;
  }

  @Override
  public boolean ordered() {
    return state != null;
  }

  /** Bytes of input handed to the UART so far. */
  long inputBytes() {
    return inputBytes;
  }

  @Override
  public int[] fds() {
    int[] fds = java.util.Arrays.copyOf(resampleFds, resampleFds.length + (state == null ? 1 : 2));
    fds[resampleFds.length] = inputFd >= 0 && uart.sendWindow() > 0 ? inputFd : -1;
    if (state != null) {
      fds[resampleFds.length + 1] = state.fd();
    }
    return fds;
  }

  @Override
  public void ready(int index, int revents) {
    if (index < resampleFds.length) {
      irqs.resampled(resampleFds[index]);
      return;
    }
    if (index == resampleFds.length + 1) {
      state.drain(); // a garbage message throws: the server stops, nothing applied
      return;
    }
    int room = uart.sendWindow();
    if (room == 0) {
      return;
    }
    long n;
    try {
      n = Fds.read(inputFd, buffer, Math.min(room, INPUT_CHUNK));
    } catch (PosixException e) {
      log.println(name + ": cannot read the serial input, closing it: " + e.getMessage());
      inputFd = -1;
      return;
    }
    if (n == 0) {
      log.println(name + ": EOF on the serial input after " + inputBytes + " bytes");
      inputFd = -1;
      return;
    }
    inputBytes += n;
    uart.receive(buffer.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
  }

  @Override
  public int timeoutMs() {
    if (uart == null) {
      return -1;
    }
    OptionalLong deadline = uart.nextDeadline();
    if (deadline.isEmpty()) {
      return -1;
    }
    long left = deadline.getAsLong() - clock.getAsLong();
    return left <= 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, (left + 999_999) / 1_000_000);
  }

  @Override
  public void tick() {
    if (uart != null) {
      uart.tick();
    }
  }
}
