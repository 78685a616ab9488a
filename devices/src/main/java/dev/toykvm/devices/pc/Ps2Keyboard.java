package dev.toykvm.devices.pc;

import java.util.function.IntConsumer;

/**
 * A PS/2 keyboard with no keys pressed, behind the {@link I8042}: it answers the host's commands as
 * an AT keyboard does (the IBM PC AT technical reference's command set), so firmware that resets
 * and configures the keyboard gets its replies at once instead of waiting for a timeout (SeaBIOS
 * waits seconds for a reset's answer). It never sends a scan code.
 *
 * <pre>
 * 0xff reset              0xfa, then 0xaa (self test passed); scanning off, defaults
 * 0xf2 identify           0xfa, 0xab, 0x83 (an MF2 keyboard)
 * 0xee echo               0xee
 * 0xf4 / 0xf5 / 0xf6      0xfa: enable scanning / disable it and set defaults / set defaults
 * 0xed LEDs, 0xf3 typematic rate, 0xf0 scan code set: 0xfa, then the argument byte: 0xfa
 *                         (0xf0 with argument 0: 0xfa and the set in use, 2)
 * 0xfe resend             the last byte sent again
 * anything else           0xfe (resend: the command is not known)
 * </pre>
 *
 * Not thread-safe: the 8042 calls it under its own lock.
 */
final class Ps2Keyboard {
  static final int ACK = 0xfa;
  static final int RESEND = 0xfe;
  static final int BAT_OK = 0xaa;
  static final int ECHO = 0xee;

  static final int CMD_SET_LEDS = 0xed;
  static final int CMD_ECHO = 0xee;
  static final int CMD_SCAN_CODE_SET = 0xf0;
  static final int CMD_IDENTIFY = 0xf2;
  static final int CMD_TYPEMATIC = 0xf3;
  static final int CMD_ENABLE = 0xf4;
  static final int CMD_DISABLE = 0xf5;
  static final int CMD_DEFAULTS = 0xf6;
  static final int CMD_RESEND = 0xfe;
  static final int CMD_RESET = 0xff;

  private final IntConsumer send;
  private int waitingFor = -1; // a command whose argument byte comes next
  private int lastSent = ACK;
  private int scanCodeSet = 2;
  private boolean scanning = true;
  private int leds;

  /**
   * @param send where the keyboard's bytes go (the 8042's output buffer, in order)
   */
  Ps2Keyboard(IntConsumer send) {
    this.send = send;
  }

  /** Whether the host has enabled scanning (no keys are ever pressed either way). */
  boolean scanning() {
    return scanning;
  }

  /** The LEDs the host last set (bit 0 scroll, 1 num, 2 caps lock). */
  int leds() {
    return leds;
  }

  /** The scan code set the host chose (1-3). */
  int scanCodeSet() {
    return scanCodeSet;
  }

  /** A byte from the host. */
  void receive(int b) {
    int cmd = waitingFor;
    waitingFor = -1;
    if (cmd >= 0 && b < 0xed) { // an argument (a command byte aborts the wait)
      argument(cmd, b);
      return;
    }
    switch (b) {
      case CMD_RESET -> {
        defaults();
        scanning = false;
        send(ACK);
        send(BAT_OK);
      }
      case CMD_IDENTIFY -> {
        send(ACK);
        send(0xab);
        send(0x83);
      }
      case CMD_ECHO -> send(ECHO);
      case CMD_ENABLE -> {
        scanning = true;
        send(ACK);
      }
      case CMD_DISABLE -> {
        defaults();
        scanning = false;
        send(ACK);
      }
      case CMD_DEFAULTS -> {
        defaults();
        send(ACK);
      }
      case CMD_SET_LEDS, CMD_TYPEMATIC, CMD_SCAN_CODE_SET -> {
        waitingFor = b;
        send(ACK);
      }
      case CMD_RESEND -> send.accept(lastSent);
      default -> send(RESEND);
    }
  }

  private void argument(int cmd, int b) {
    switch (cmd) {
      case CMD_SET_LEDS -> leds = b & 7;
      case CMD_SCAN_CODE_SET -> {
        if (b == 0) {
          send(ACK);
          send(scanCodeSet);
          return;
        }
        if (b <= 3) {
          scanCodeSet = b;
        }
      }
      default -> {} // the typematic rate: kept nowhere, no key repeats
    }
    send(ACK);
  }

  private void defaults() {
    scanCodeSet = 2;
    leds = 0;
  }

  private void send(int b) {
    lastSent = b;
    send.accept(b);
  }
}
