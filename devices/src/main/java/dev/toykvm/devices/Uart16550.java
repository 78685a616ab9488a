package dev.toykvm.devices;

import java.io.IOException;
import java.io.OutputStream;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A 16550A UART (eight byte-wide registers), as on a PC's COM1 at I/O ports 0x3f8-0x3ff.
 *
 * <p>Registers and interrupts follow the National Semiconductor PC16550D datasheet ("Table II.
 * Summary of Registers", "Table IV. Interrupt Control Functions"):
 *
 * <ul>
 *   <li>IER enables four sources: ERBFI (received data, and the character timeout), ETBEI (THR
 *       empty), ELSI (receiver line status), EDSSI (modem status).
 *   <li>IIR reports the highest-priority source: line status (overrun; cleared by reading LSR),
 *       received data (the trigger level reached, or a byte held with FIFOs off; cleared as the
 *       receiver drains below it), character timeout (FIFO mode: bytes held and none moved for four
 *       character times; cleared by reading RBR), THR empty (raised when THR empties, or when ETBEI
 *       is set while THR is empty; cleared by reading IIR while it is the source, or by writing
 *       THR), modem status (a change of CTS, DSR, DCD or a falling RI; cleared by reading MSR).
 *       Bits 6-7 are set in FIFO mode.
 *   <li>FCR: bit 0 turns the FIFOs on (a change empties them), bits 1-2 empty them, bits 6-7 set
 *       the receive trigger level (1, 4, 8, 14); the other bits only count while bit 0 is written
 *       1.
 *   <li>The receiver ({@link UartReceiver}): a 16-byte FIFO, or one byte with FIFOs off; a byte
 *       that arrives while it is full sets LSR.OE (overrun).
 *   <li>LSR: DR, OE, THRE, TEMT. Transmission is instant (a byte written to THR goes straight to
 *       the output sink), so THRE and TEMT read 1; writing THR still lowers and raises the
 *       THR-empty interrupt, as the chip does when the byte leaves. Parity, framing and break never
 *       occur.
 *   <li>MCR: OUT2 gates the interrupt output onto the IRQ line, as on a PC; loopback (bit 4) wires
 *       THR to the receiver and the modem outputs to the modem inputs, and, as on a PC (the chip
 *       forces OUT2 inactive in loopback), no interrupt reaches the line then.
 *   <li>MSR: a connected, ready terminal (DCD, DSR, CTS) outside loopback; deltas in bits 0-3.
 *   <li>Scratch register, and the divisor latch behind LCR.DLAB.
 * </ul>
 *
 * <p>The interrupt output is a level on an {@link IrqLine}: it is set again after every access,
 * every {@link #receive} and every {@link #tick()} that changes it. The character timeout needs
 * time to pass: the owner calls {@link #tick()} at {@link #nextDeadline()} (a device process waits
 * for it in its poll). Four character times come from the divisor and the LCR frame format (at the
 * BIOS default of 9600 baud and 8N1, 4.2 ms).
 *
 * <p>Input ({@link #receive}) can overrun the receiver as on a line with no flow control; a feeder
 * that must lose nothing gives no more than {@link #sendWindow()} bytes at a time, as a terminal
 * with RTS/CTS flow control does (the device process does: see {@code DeviceEvents}).
 *
 * <p>Odd accesses are counted ({@link #oddAccesses()}), logged once, and answered as the chip on an
 * ISA bus would: a wider access is split into byte accesses to consecutive registers, bytes past
 * the last register read as 0xff and are dropped on write, writes to the read-only LSR and MSR are
 * ignored.
 *
 * <p>Thread-safe (every method locks the UART); the {@link IrqLine} is called with the lock held.
 */
public final class Uart16550 implements BusDevice {
  private static final Logger log = LoggerFactory.getLogger(Uart16550.class);

  /** Number of byte-wide registers, and so the length of the device's I/O range. */
  public static final int REGISTER_COUNT = 8;

  // Register offsets. DLAB = LCR bit 7 switches offsets 0 and 1 to the divisor latch.
  public static final int RBR_THR_DLL = 0;
  public static final int IER_DLM = 1;
  public static final int IIR_FCR = 2;
  public static final int LCR = 3;
  public static final int MCR = 4;
  public static final int LSR = 5;
  public static final int MSR = 6;
  public static final int SCR = 7;

  // IER bits.
  public static final int IER_RDA = 0x01; // ERBFI: received data available (and timeout)
  public static final int IER_THRE = 0x02; // ETBEI: transmitter holding register empty
  public static final int IER_RLS = 0x04; // ELSI: receiver line status
  public static final int IER_MS = 0x08; // EDSSI: modem status
  private static final int IER_MASK = 0x0f;

  // IIR values (bits 0-3), and the FIFO-enabled bits 6-7.
  public static final int IIR_NO_INTERRUPT = 0x01;
  public static final int IIR_RLS = 0x06;
  public static final int IIR_RDA = 0x04;
  public static final int IIR_TIMEOUT = 0x0c;
  public static final int IIR_THRE = 0x02;
  public static final int IIR_MS = 0x00;
  public static final int IIR_FIFO_ENABLED = 0xc0;

  // FCR bits.
  public static final int FCR_ENABLE = 0x01;
  public static final int FCR_CLEAR_RX = 0x02;
  public static final int FCR_CLEAR_TX = 0x04;
  public static final int FCR_TRIGGER_1 = 0x00;
  public static final int FCR_TRIGGER_4 = 0x40;
  public static final int FCR_TRIGGER_8 = 0x80;
  public static final int FCR_TRIGGER_14 = 0xc0;

  // LCR bits.
  public static final int LCR_DLAB = 0x80;
  private static final int LCR_STOP_BITS = 0x04;
  private static final int LCR_PARITY = 0x08;

  // MCR bits.
  public static final int MCR_DTR = 0x01;
  public static final int MCR_RTS = 0x02;
  public static final int MCR_OUT1 = 0x04;
  public static final int MCR_OUT2 = 0x08;
  public static final int MCR_LOOP = 0x10;
  private static final int MCR_MASK = 0x1f;

  // LSR bits.
  public static final int LSR_DR = 0x01;
  public static final int LSR_OE = 0x02;
  public static final int LSR_THRE = 0x20;
  public static final int LSR_TEMT = 0x40;

  // MSR bits: deltas in 0-3, line states in 4-7.
  public static final int MSR_DCTS = 0x01;
  public static final int MSR_DDSR = 0x02;
  public static final int MSR_TERI = 0x04;
  public static final int MSR_DDCD = 0x08;
  public static final int MSR_CTS = 0x10;
  public static final int MSR_DSR = 0x20;
  public static final int MSR_RI = 0x40;
  public static final int MSR_DCD = 0x80;

  /** The UART's input clock divided by 16: the baud rate at divisor 1. */
  private static final long BAUD_BASE = 115_200;

  private final OutputStream sink;
  private final IrqLine irq;
  private final int irqNumber;
  private final LongSupplier clock;
  private final UartReceiver rx = new UartReceiver();
  private final AtomicLong oddAccesses = new AtomicLong();
  private boolean oddAccessLogged;
  private boolean sinkFailureLogged;

  private int ier;
  private int lcr;
  private int mcr;
  private int scr;
  private int msrDeltas;
  private int divisorLatch = 12; // 9600 baud from the 1.8432 MHz clock, the BIOS default
  private boolean threInterruptPending;
  private boolean irqLevel;

  /** A UART whose interrupt output goes nowhere (polled use), on the system's monotonic clock. */
  public Uart16550(OutputStream sink) {
    this(sink, (line, level) -> {}, 4, System::nanoTime);
  }

  /**
   * @param sink where the transmitted bytes go, one {@code write(int)} per byte; flushed after each
   *     newline
   * @param irq the line the interrupt output drives (through MCR.OUT2)
   * @param irqNumber the line's number on {@code irq} (4 for COM1)
   * @param clock monotonic nanoseconds, for the character timeout
   */
  public Uart16550(OutputStream sink, IrqLine irq, int irqNumber, LongSupplier clock) {
    this.sink = sink;
    this.irq = irq;
    this.irqNumber = irqNumber;
    this.clock = clock;
  }

  /**
   * Bytes arrive on the serial line (what the guest will read from RBR). Those that find the
   * receiver full are lost and set LSR.OE, as on the chip.
   */
  public synchronized void receive(byte... bytes) {
    long now = clock.getAsLong();
    for (byte b : bytes) {
      rx.put(b, now);
    }
    updateIrq();
  }

  /** How many bytes {@link #receive} can take now without an overrun (16 or 1 when empty). */
  public synchronized int receiveSpace() {
    return rx.space();
  }

  /**
   * How many bytes the far end of the line may send now, with hardware flow control: none unless
   * the guest asserts RTS (MCR bit 1, "ready to receive") outside loopback, else the room left in
   * the receiver. A driver sets RTS once the port is set up (Linux at open, a BIOS at init), so
   * nothing sent before that is lost when the FIFOs are switched on (which empties them).
   */
  public synchronized int sendWindow() {
    return (mcr & (MCR_RTS | MCR_LOOP)) == MCR_RTS ? rx.space() : 0;
  }

  /**
   * When the interrupt output may next change with no access (the character timeout), in the
   * clock's nanoseconds; empty if nothing is due.
   */
  public synchronized OptionalLong nextDeadline() {
    if (!rx.timeoutArmed() || rx.timedOut(clock.getAsLong(), timeout())) {
      return OptionalLong.empty();
    }
    return OptionalLong.of(rx.timeoutDeadline(timeout()));
  }

  /** Looks at the clock and sets the interrupt output again (call at {@link #nextDeadline()}). */
  public synchronized void tick() {
    updateIrq();
  }

  /** How many accesses the guest made that a driver would not make (see the class comment). */
  public long oddAccesses() {
    return oddAccesses.get();
  }

  /** The divisor latch (DLM:DLL); the baud rate is 115200 / divisor. */
  public synchronized int divisor() {
    return divisorLatch;
  }

  /** Whether the UART's interrupt output reaches the line: a source pending and MCR.OUT2 on. */
  public synchronized boolean interruptPending() {
    return outputLevel();
  }

  @Override
  public synchronized long read(long offset, int size) {
    long value;
    if (offset < 0 || offset >= REGISTER_COUNT) {
      odd("a %d-byte read at offset %d, past the last register", size, offset);
      value = readByte(offset);
    } else if (size != 1) {
      odd("a %d-byte read at offset %d", size, offset);
      value = 0;
      for (int i = 0; i < size; i++) {
        value |= (readByte(offset + i) & 0xffL) << (8 * i);
      }
    } else {
      value = readByte(offset);
    }
    updateIrq();
    return value;
  }

  @Override
  public synchronized void write(long offset, int size, long value) {
    if (offset < 0 || offset >= REGISTER_COUNT) {
      odd("a %d-byte write at offset %d, past the last register", size, offset);
    } else if (size != 1) {
      odd("a %d-byte write at offset %d", size, offset);
      for (int i = 0; i < size; i++) {
        writeByte(offset + i, (int) (value >>> (8 * i)) & 0xff);
      }
    } else {
      writeByte(offset, (int) value & 0xff);
    }
    updateIrq();
  }

  private int readByte(long offset) {
    if (offset < 0 || offset >= REGISTER_COUNT) {
      return 0xff; // nothing drives the bus there
    }
    boolean dlab = (lcr & LCR_DLAB) != 0;
    return switch ((int) offset) {
      case RBR_THR_DLL -> dlab ? divisorLatch & 0xff : rx.take(clock.getAsLong());
      case IER_DLM -> dlab ? (divisorLatch >>> 8) & 0xff : ier;
      case IIR_FCR -> readIir();
      case LCR -> lcr;
      case MCR -> mcr;
      case LSR -> readLsr();
      case MSR -> readMsr();
      case SCR -> scr;
      default -> throw new AssertionError(offset);
    };
  }

  private void writeByte(long offset, int value) {
    if (offset < 0 || offset >= REGISTER_COUNT) {
      return; // nothing listens there
    }
    boolean dlab = (lcr & LCR_DLAB) != 0;
    switch ((int) offset) {
      case RBR_THR_DLL -> {
        if (dlab) {
          divisorLatch = (divisorLatch & 0xff00) | value;
        } else {
          transmit(value);
        }
      }
      case IER_DLM -> {
        if (dlab) {
          divisorLatch = (divisorLatch & 0x00ff) | (value << 8);
        } else {
          writeIer(value);
        }
      }
      case IIR_FCR -> writeFcr(value);
      case LCR -> lcr = value;
      case MCR -> writeMcr(value);
      case LSR, MSR -> odd("a write of 0x%x to the read-only register at offset %d", value, offset);
      case SCR -> scr = value;
      default -> throw new AssertionError(offset);
    }
  }

  private void writeIer(int value) {
    int old = ier;
    ier = value & IER_MASK;
    // THR is always empty here, so setting ETBEI raises the THR-empty interrupt at once (and
    // clearing it drops what was pending, so that setting it again raises it again).
    if ((ier & IER_THRE) != 0 && (old & IER_THRE) == 0) {
      threInterruptPending = true;
    } else if ((ier & IER_THRE) == 0) {
      threInterruptPending = false;
    }
  }

  private int readIir() {
    int iir = pendingInterrupt();
    // Reading IIR while it reports THR empty acknowledges that interrupt (datasheet, Table IV).
    if (iir == IIR_THRE) {
      threInterruptPending = false;
    }
    return iir | (rx.fifoEnabled() ? IIR_FIFO_ENABLED : 0);
  }

  /** The highest-priority source that is enabled and pending; {@link #IIR_NO_INTERRUPT} if none. */
  private int pendingInterrupt() {
    if ((ier & IER_RLS) != 0 && rx.overrun()) {
      return IIR_RLS;
    }
    if ((ier & IER_RDA) != 0 && rx.dataAvailable()) {
      return IIR_RDA;
    }
    if ((ier & IER_RDA) != 0 && rx.timedOut(clock.getAsLong(), timeout())) {
      return IIR_TIMEOUT;
    }
    if ((ier & IER_THRE) != 0 && threInterruptPending) {
      return IIR_THRE;
    }
    if ((ier & IER_MS) != 0 && msrDeltas != 0) {
      return IIR_MS;
    }
    return IIR_NO_INTERRUPT;
  }

  private int readLsr() {
    int lsr = LSR_THRE | LSR_TEMT;
    if (rx.count() > 0) {
      lsr |= LSR_DR;
    }
    if (rx.takeOverrun()) {
      lsr |= LSR_OE;
    }
    return lsr;
  }

  private int readMsr() {
    int msr = modemInputs() | msrDeltas;
    msrDeltas = 0;
    return msr;
  }

  /** CTS, DSR, RI, DCD (MSR bits 4-7) as the chip sees them now. */
  private int modemInputs() {
    if ((mcr & MCR_LOOP) != 0) {
      // Loopback: the modem outputs are wired back to the modem inputs.
      int msr = 0;
      if ((mcr & MCR_RTS) != 0) {
        msr |= MSR_CTS;
      }
      if ((mcr & MCR_DTR) != 0) {
        msr |= MSR_DSR;
      }
      if ((mcr & MCR_OUT1) != 0) {
        msr |= MSR_RI;
      }
      if ((mcr & MCR_OUT2) != 0) {
        msr |= MSR_DCD;
      }
      return msr;
    }
    // A connected, ready terminal: carrier, data set ready, clear to send.
    return MSR_DCD | MSR_DSR | MSR_CTS;
  }

  private void writeMcr(int value) {
    int before = modemInputs();
    mcr = value & MCR_MASK;
    int after = modemInputs();
    int changed = before ^ after;
    if ((changed & MSR_CTS) != 0) {
      msrDeltas |= MSR_DCTS;
    }
    if ((changed & MSR_DSR) != 0) {
      msrDeltas |= MSR_DDSR;
    }
    if ((before & MSR_RI) != 0 && (after & MSR_RI) == 0) {
      msrDeltas |= MSR_TERI; // trailing edge of ring indicator
    }
    if ((changed & MSR_DCD) != 0) {
      msrDeltas |= MSR_DDCD;
    }
  }

  private void writeFcr(int value) {
    long now = clock.getAsLong();
    boolean enable = (value & FCR_ENABLE) != 0;
    rx.setFifoEnabled(enable, now);
    if (!enable) {
      return; // the other bits are only programmed with FCR0 = 1
    }
    if ((value & FCR_CLEAR_RX) != 0) {
      rx.clear(now);
    }
    // FCR_CLEAR_TX: the transmitter is always empty already.
    rx.setTriggerBits(value >>> 6);
  }

  private void transmit(int value) {
    // Writing THR clears the THR-empty interrupt; the byte leaves at once, so THR empties and the
    // interrupt rises again: the line sees the fall and the rise, as with a real character time.
    threInterruptPending = false;
    updateIrq();
    if ((mcr & MCR_LOOP) != 0) {
      rx.put((byte) value, clock.getAsLong());
    } else {
      try {
        sink.write(value);
        if (value == '\n') {
          sink.flush();
        }
      } catch (IOException e) {
        // The host side of the line is gone (e.g. stdout closed): the byte is lost, as on a
        // cable nobody listens to; the guest must not notice.
        if (!sinkFailureLogged) {
          sinkFailureLogged = true;
          log.warn("uart: cannot write the serial output, dropping it: {}", e.toString());
        }
      }
    }
    threInterruptPending = (ier & IER_THRE) != 0;
  }

  /** The interrupt output as the PC's IRQ line sees it: OUT2 on, not in loopback, a source. */
  private boolean outputLevel() {
    return (mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2 && pendingInterrupt() != IIR_NO_INTERRUPT;
  }

  private void updateIrq() {
    boolean level = outputLevel();
    if (level != irqLevel) {
      irqLevel = level;
      irq.setIrq(irqNumber, level);
    }
  }

  /** Four character times at the current divisor and frame format, in nanoseconds. */
  private long timeout() {
    int dataBits = 5 + (lcr & 3);
    int parity = (lcr & LCR_PARITY) != 0 ? 1 : 0;
    // Stop bits in halves: 1, or 1.5 for 5-bit characters, or 2.
    int stopHalves = (lcr & LCR_STOP_BITS) == 0 ? 2 : dataBits == 5 ? 3 : 4;
    int halfBits = 2 * (1 + dataBits + parity) + stopHalves;
    long divisor = divisorLatch == 0 ? 0x10000 : divisorLatch; // 0 stops the clock: the slowest
    return 4 * halfBits * divisor * 1_000_000_000L / (2 * BAUD_BASE);
  }

  private void odd(String format, Object... args) {
    oddAccesses.incrementAndGet();
    if (!oddAccessLogged) {
      oddAccessLogged = true;
      log.info(
          "uart: the guest made {} (answered as the chip would; further odd accesses are only"
              + " counted)",
          String.format(format, args));
    }
  }
}
