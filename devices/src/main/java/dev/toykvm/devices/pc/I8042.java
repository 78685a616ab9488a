package dev.toykvm.devices.pc;

import dev.toykvm.devices.BusDevice;

/**
 * The keyboard controller of a PC (Intel 8042), as little of it as firmware and Linux's reboot path
 * need: the status and command port 0x64 (this object) and the data port 0x60 ({@link
 * #dataPort()}). Behind it a keyboard with no keys pressed ({@link Ps2Keyboard}: it answers its
 * commands), and no mouse.
 *
 * <p>Status (read 0x64): bit 0 output buffer full (a byte waits at 0x60), bit 1 input buffer full
 * (always 0: commands are taken at once, so a guest waiting for it to drain, as Linux's {@code
 * kb_wait} does, never waits), bit 2 system flag (the command byte's bit 2; set at start, as after
 * POST, and by the self test), bit 3 the last write went to 0x64, bit 4 not inhibited (set).
 *
 * <p>Commands (write 0x64):
 *
 * <pre>
 * 0x20       read the command byte          0x60  write the command byte (next byte at 0x60)
 * 0xa7/0xa8  disable/enable the mouse port  0xa9  test the mouse port: 0x00
 * 0xaa       self test: 0x55                0xab  test the keyboard port: 0x00
 * 0xad/0xae  disable/enable the keyboard    0xd0  read the output port
 * 0xd1       write the output port (next byte at 0x60): bit 1 is the A20 gate, bit 0 clear resets
 * 0xd2/0xd3  the next byte at 0x60 comes back as if from the keyboard/mouse
 * 0xdd/0xdf  A20 gate off/on                0xe0  read the test inputs: 0x00
 * 0xf0-0xff  pulse output port bits 0-3 low where the command's bits are 0: bit 0 is the reset
 *            line, so 0xfe (Linux's reboot) and any even command here reset the machine
 * </pre>
 *
 * <p>Reads of 0x60 return the byte waiting (and the next one the keyboard sent, if any, takes its
 * place), 0 when empty. A byte written to 0x60 with no controller command waiting goes to the
 * keyboard, whose replies queue up behind the output buffer (at most 16).
 *
 * <p>Not modelled: the mouse (a byte for it, command 0xd4, is dropped and counted: a guest waiting
 * for its reply gets nothing), key presses and scan codes, interrupts (IRQ 1 and 12), the input
 * port (0xc0), the controller RAM beyond the command byte, and address masking by the A20 gate (it
 * is only kept, {@link #a20()}). Unknown commands are ignored and counted ({@link #ignored()}).
 * Thread-safe.
 */
public final class I8042 implements BusDevice {

  public static final int DATA_PORT = 0x60;
  public static final int COMMAND_PORT = 0x64;
  public static final int SIZE = 1;

  public static final int STATUS_OUTPUT_FULL = 0x01;
  public static final int STATUS_INPUT_FULL = 0x02;
  public static final int STATUS_SYSTEM = 0x04;
  public static final int STATUS_COMMAND = 0x08;
  public static final int STATUS_NOT_INHIBITED = 0x10;

  public static final int CMD_READ_MODE = 0x20;
  public static final int CMD_WRITE_MODE = 0x60;
  public static final int CMD_DISABLE_AUX = 0xa7;
  public static final int CMD_ENABLE_AUX = 0xa8;
  public static final int CMD_TEST_AUX = 0xa9;
  public static final int CMD_SELF_TEST = 0xaa;
  public static final int CMD_TEST_KBD = 0xab;
  public static final int CMD_DISABLE_KBD = 0xad;
  public static final int CMD_ENABLE_KBD = 0xae;
  public static final int CMD_READ_OUTPUT = 0xd0;
  public static final int CMD_WRITE_OUTPUT = 0xd1;
  public static final int CMD_WRITE_KBD_BUFFER = 0xd2;
  public static final int CMD_WRITE_AUX_BUFFER = 0xd3;
  public static final int CMD_WRITE_AUX = 0xd4;
  public static final int CMD_A20_OFF = 0xdd;
  public static final int CMD_A20_ON = 0xdf;
  public static final int CMD_READ_TEST = 0xe0;
  public static final int CMD_RESET = 0xfe;

  public static final int MODE_SYSTEM = 0x04;
  public static final int MODE_DISABLE_KBD = 0x10;
  public static final int MODE_DISABLE_AUX = 0x20;

  public static final int OUT_RESET = 0x01; // 0 = reset asserted
  public static final int OUT_A20 = 0x02;

  /** The command byte at start: keyboard and mouse interrupts on, system flag set. */
  public static final int MODE_DEFAULT = 0x03 | MODE_SYSTEM;

  /** The output port at start: reset not asserted, A20 on, the unused lines high (QEMU's). */
  public static final int OUTPUT_DEFAULT = 0xcf;

  public static final int SELF_TEST_OK = 0x55;

  private final Runnable reset;
  private final BusDevice data = new DataPort();
  private int mode = MODE_DEFAULT;
  private int outputPort = OUTPUT_DEFAULT;
  private int outputBuffer = -1;
  private final java.util.ArrayDeque<Integer> fromKeyboard = new java.util.ArrayDeque<>();
  private final Ps2Keyboard keyboard = new Ps2Keyboard(this::fromKeyboard);
  private int pending = -1; // a command waiting for its byte at 0x60
  private boolean lastWasCommand;
  private long ignored;

  /**
   * @param reset resets the machine; called on the vCPU thread that wrote, holding no lock
   */
  public I8042(Runnable reset) {
    this.reset = reset;
  }

  /** The data port, to map at I/O port {@link #DATA_PORT}. */
  public BusDevice dataPort() {
    return data;
  }

  /** Whether the A20 gate of the output port is on. */
  public synchronized boolean a20() {
    return (outputPort & OUT_A20) != 0;
  }

  /** Bytes and commands dropped: unknown commands, bytes for the absent mouse. */
  public synchronized long ignored() {
    return ignored;
  }

  /** Reads the status register. */
  @Override
  public synchronized long read(long offset, int size) {
    return (outputBuffer >= 0 ? STATUS_OUTPUT_FULL : 0)
        | (mode & MODE_SYSTEM)
        | (lastWasCommand ? STATUS_COMMAND : 0)
        | STATUS_NOT_INHIBITED;
  }

  /** Writes a command. */
  @Override
  public void write(long offset, int size, long value) {
    boolean resetNow;
    synchronized (this) {
      lastWasCommand = true;
      resetNow = command((int) (value & 0xff));
    }
    if (resetNow) {
      reset.run();
    }
  }

  /**
   * @return whether to reset the machine
   */
  private boolean command(int cmd) {
    pending = -1;
    switch (cmd) {
      case CMD_READ_MODE -> outputBuffer = mode;
      case CMD_WRITE_MODE,
          CMD_WRITE_OUTPUT,
          CMD_WRITE_KBD_BUFFER,
          CMD_WRITE_AUX_BUFFER,
          CMD_WRITE_AUX ->
          pending = cmd;
      case CMD_DISABLE_AUX -> mode |= MODE_DISABLE_AUX;
      case CMD_ENABLE_AUX -> mode &= ~MODE_DISABLE_AUX;
      case CMD_TEST_AUX, CMD_TEST_KBD, CMD_READ_TEST -> outputBuffer = 0x00;
      case CMD_SELF_TEST -> {
        mode |= MODE_SYSTEM;
        outputBuffer = SELF_TEST_OK;
      }
      case CMD_DISABLE_KBD -> mode |= MODE_DISABLE_KBD;
      case CMD_ENABLE_KBD -> mode &= ~MODE_DISABLE_KBD;
      case CMD_READ_OUTPUT -> outputBuffer = outputPort;
      case CMD_A20_OFF -> outputPort &= ~OUT_A20;
      case CMD_A20_ON -> outputPort |= OUT_A20;
      default -> {
        if (cmd >= 0xf0) {
          return (cmd & OUT_RESET) == 0; // a pulse of the reset line
        }
        ignored++;
      }
    }
    return false;
  }

  /**
   * @return whether to reset the machine
   */
  private boolean dataWrite(int b) {
    int cmd = pending;
    pending = -1;
    switch (cmd) {
      case CMD_WRITE_MODE -> mode = b;
      case CMD_WRITE_OUTPUT -> {
        outputPort = b;
        return (b & OUT_RESET) == 0;
      }
      case CMD_WRITE_KBD_BUFFER, CMD_WRITE_AUX_BUFFER -> outputBuffer = b;
      case -1 -> keyboard.receive(b);
      default -> ignored++; // for the mouse (0xd4): not there
    }
    return false;
  }

  /** A byte the keyboard sends: into the output buffer, or queued behind it. */
  private void fromKeyboard(int b) {
    if (outputBuffer < 0) {
      outputBuffer = b;
    } else if (fromKeyboard.size() < KEYBOARD_QUEUE) {
      fromKeyboard.add(b);
    } else {
      ignored++;
    }
  }

  private static final int KEYBOARD_QUEUE = 16;

  /** Port 0x60. */
  private final class DataPort implements BusDevice {
    @Override
    public long read(long offset, int size) {
      synchronized (I8042.this) {
        int b = Math.max(outputBuffer, 0);
        Integer next = fromKeyboard.poll();
        outputBuffer = next == null ? -1 : next;
        return b;
      }
    }

    @Override
    public void write(long offset, int size, long value) {
      boolean resetNow;
      synchronized (I8042.this) {
        lastWasCommand = false;
        resetNow = dataWrite((int) (value & 0xff));
      }
      if (resetNow) {
        reset.run();
      }
    }
  }
}
