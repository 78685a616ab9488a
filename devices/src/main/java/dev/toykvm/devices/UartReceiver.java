package dev.toykvm.devices;

/**
 * The receive side of a {@link Uart16550}: the 16-byte receive FIFO (or, with FIFOs off, the single
 * receiver buffer register), overrun, the trigger level and the character-timeout clock.
 *
 * <p>PC16550D datasheet, "FIFO Interrupt Mode Operation": with FIFOs on, the received-data
 * interrupt is raised while the FIFO holds at least the trigger level (1, 4, 8 or 14 bytes) and
 * lowered when it falls below; a character-timeout interrupt is raised when the FIFO holds at least
 * one byte and no byte was put in or taken out for four character times (the timer restarts at each
 * byte received or read). With FIFOs off the receiver holds one byte, and the received-data
 * interrupt follows LSR.DR. A byte that arrives while the receiver is full is an overrun (LSR.OE):
 * with FIFOs on it is lost (the FIFO keeps what it had); with FIFOs off it replaces the byte in the
 * buffer, as the shift register overwrites RBR.
 *
 * <p>Time is in nanoseconds of the clock the UART was given; this class only stores timestamps. Not
 * thread-safe: the owning {@link Uart16550} locks.
 */
final class UartReceiver {
  /** The receive FIFO's depth. */
  static final int FIFO_DEPTH = 16;

  private static final int[] TRIGGER_LEVELS = {1, 4, 8, 14};

  private final byte[] ring = new byte[FIFO_DEPTH];
  private int head;
  private int count;
  private boolean fifo;
  private int triggerLevel = 1;
  private boolean overrun;
  private long lastActivity;

  /** Whether FIFO mode is on (FCR bit 0). */
  boolean fifoEnabled() {
    return fifo;
  }

  /** Turns FIFO mode on or off; a change empties the receiver, as the datasheet says for FCR0. */
  void setFifoEnabled(boolean on, long now) {
    if (on != fifo) {
      clear(now);
    }
    fifo = on;
  }

  /** FCR bits 6-7: the trigger level 1, 4, 8 or 14. */
  void setTriggerBits(int bits) {
    triggerLevel = TRIGGER_LEVELS[bits & 3];
  }

  int triggerLevel() {
    return triggerLevel;
  }

  /** How many bytes the receiver holds. */
  int count() {
    return count;
  }

  /** How many more bytes it can take without an overrun. */
  int space() {
    return capacity() - count;
  }

  private int capacity() {
    return fifo ? FIFO_DEPTH : 1;
  }

  /** Empties the receiver (FCR bit 1, or a change of FCR bit 0). */
  void clear(long now) {
    head = 0;
    count = 0;
    lastActivity = now;
  }

  /** A byte arrives from the line; if the receiver is full it is an overrun (see the class). */
  void put(byte b, long now) {
    lastActivity = now;
    if (count == capacity()) {
      overrun = true;
      if (!fifo) {
        ring[head] = b; // the shift register overwrites the holding register
      }
      return;
    }
    ring[(head + count) % FIFO_DEPTH] = b;
    count++;
  }

  /** The guest reads RBR: the oldest byte, or 0 if there is none. */
  int take(long now) {
    lastActivity = now;
    if (count == 0) {
      return 0;
    }
    int b = ring[head] & 0xff;
    head = (head + 1) % FIFO_DEPTH;
    count--;
    return b;
  }

  /** Whether an overrun happened since LSR was last read; reading LSR clears it. */
  boolean takeOverrun() {
    boolean o = overrun;
    overrun = false;
    return o;
  }

  boolean overrun() {
    return overrun;
  }

  /** The received-data condition: the trigger level reached (FIFO mode) or a byte held. */
  boolean dataAvailable() {
    return fifo ? count >= triggerLevel : count > 0;
  }

  /** Whether the character timeout can run: FIFO mode and bytes held. */
  boolean timeoutArmed() {
    return fifo && count > 0;
  }

  /** Whether the character timeout has fired: armed, and no byte moved for {@code timeout}. */
  boolean timedOut(long now, long timeout) {
    return timeoutArmed() && now - lastActivity >= timeout;
  }

  /** When the armed timeout fires (meaningful only while {@link #timeoutArmed()}). */
  long timeoutDeadline(long timeout) {
    return lastActivity + timeout;
  }
}
