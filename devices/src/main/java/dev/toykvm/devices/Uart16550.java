package dev.toykvm.devices;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A 16550A UART (eight byte-wide registers), as on a PC's COM1 at I/O ports 0x3f8-0x3ff.
 *
 * <p>Register map and bits follow the National Semiconductor PC16550D datasheet ("Table II. Summary
 * of Registers"). Transmission is instant: a byte written to THR goes straight to the output sink,
 * so LSR.THRE and LSR.TEMT are always set. Input is a queue filled with {@link #receive}, unbounded
 * (it stands for the host side of the line, which the guest drains at its own pace, so no input is
 * ever lost); LSR.DR is set while it holds a byte. The interrupt line is modelled ({@link
 * #interruptPending()}, IIR) but not yet wired to an interrupt controller.
 *
 * <p>Odd accesses are counted ({@link #oddAccesses()}), logged once, and answered as the chip on an
 * ISA bus would: a wider access is split into byte accesses to consecutive registers, bytes past
 * the last register read as 0xff and are dropped on write, writes to the read-only LSR and MSR are
 * ignored.
 *
 * <p>Not thread-safe: one vCPU thread drives it; {@link #receive} is synchronized with it.
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
  public static final int IER_RDA = 0x01; // received data available
  public static final int IER_THRE = 0x02; // transmitter holding register empty
  public static final int IER_RLS = 0x04; // receiver line status
  public static final int IER_MS = 0x08; // modem status
  private static final int IER_MASK = 0x0f;

  // IIR values (bits 0-3), and the FIFO-enabled bits 6-7.
  public static final int IIR_NO_INTERRUPT = 0x01;
  public static final int IIR_RLS = 0x06;
  public static final int IIR_RDA = 0x04;
  public static final int IIR_THRE = 0x02;
  public static final int IIR_MS = 0x00;
  public static final int IIR_FIFO_ENABLED = 0xc0;

  // FCR bits.
  public static final int FCR_ENABLE = 0x01;
  public static final int FCR_CLEAR_RX = 0x02;
  public static final int FCR_CLEAR_TX = 0x04;

  // LCR bits.
  public static final int LCR_DLAB = 0x80;

  // MCR bits.
  public static final int MCR_DTR = 0x01;
  public static final int MCR_RTS = 0x02;
  public static final int MCR_OUT1 = 0x04;
  public static final int MCR_OUT2 = 0x08;
  public static final int MCR_LOOP = 0x10;
  private static final int MCR_MASK = 0x1f;

  // LSR bits.
  public static final int LSR_DR = 0x01;
  public static final int LSR_THRE = 0x20;
  public static final int LSR_TEMT = 0x40;

  // MSR bits: deltas in 0-3, line states in 4-7.
  public static final int MSR_CTS = 0x10;
  public static final int MSR_DSR = 0x20;
  public static final int MSR_RI = 0x40;
  public static final int MSR_DCD = 0x80;

  private final OutputStream sink;
  private final ArrayDeque<Byte> rx = new ArrayDeque<>();
  private final AtomicLong oddAccesses = new AtomicLong();
  private boolean oddAccessLogged;
  private boolean sinkFailureLogged;

  private int ier;
  private int lcr;
  private int mcr;
  private int scr;
  private int divisorLatch = 12; // 9600 baud from the 1.8432 MHz clock, the BIOS default
  private boolean fifoEnabled;
  private boolean threInterruptPending;

  /**
   * @param sink where the transmitted bytes go, one {@code write(int)} per byte; flushed after each
   *     newline
   */
  public Uart16550(OutputStream sink) {
    this.sink = sink;
  }

  /** Queues bytes as if they arrived on the serial line (what the guest will read from RBR). */
  public synchronized void receive(byte... bytes) {
    for (byte b : bytes) {
      enqueue(b);
    }
  }

  /** How many accesses the guest made that a driver would not make (see the class comment). */
  public long oddAccesses() {
    return oddAccesses.get();
  }

  /** The divisor latch (DLM:DLL); the baud rate is 115200 / divisor. */
  public synchronized int divisor() {
    return divisorLatch;
  }

  /** Whether the UART's interrupt output is asserted (IIR bit 0 clear) and MCR.OUT2 gates it on. */
  public synchronized boolean interruptPending() {
    return (mcr & MCR_OUT2) != 0 && pendingInterrupt() != IIR_NO_INTERRUPT;
  }

  @Override
  public synchronized long read(long offset, int size) {
    if (offset < 0 || offset >= REGISTER_COUNT) {
      odd("a %d-byte read at offset %d, past the last register", size, offset);
    } else if (size != 1) {
      odd("a %d-byte read at offset %d", size, offset);
      long value = 0;
      for (int i = 0; i < size; i++) {
        value |= (readByte(offset + i) & 0xffL) << (8 * i);
      }
      return value;
    }
    return readByte(offset);
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
      return;
    }
    writeByte(offset, (int) value & 0xff);
  }

  private int readByte(long offset) {
    if (offset < 0 || offset >= REGISTER_COUNT) {
      return 0xff; // nothing drives the bus there
    }
    boolean dlab = (lcr & LCR_DLAB) != 0;
    return switch ((int) offset) {
      case RBR_THR_DLL -> dlab ? divisorLatch & 0xff : readRbr();
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
          int old = ier;
          ier = value & IER_MASK;
          // The holding register is always empty, so enabling its interrupt raises it at once.
          if ((ier & IER_THRE) != 0 && (old & IER_THRE) == 0) {
            threInterruptPending = true;
          }
        }
      }
      case IIR_FCR -> writeFcr(value);
      case LCR -> lcr = value;
      case MCR -> mcr = value & MCR_MASK;
      case LSR, MSR -> odd("a write of 0x%x to the read-only register at offset %d", value, offset);
      case SCR -> scr = value;
      default -> throw new AssertionError(offset);
    }
  }

  private int readRbr() {
    Byte b = rx.pollFirst();
    return b == null ? 0 : b & 0xff;
  }

  private int readIir() {
    int iir = pendingInterrupt();
    // Reading IIR while it reports THRE acknowledges that interrupt (datasheet, Table IV).
    if (iir == IIR_THRE) {
      threInterruptPending = false;
    }
    return iir | (fifoEnabled ? IIR_FIFO_ENABLED : 0);
  }

  private int pendingInterrupt() {
    // Receiver line status (IIR_RLS) never fires: no overrun, parity, framing error or break.
    if ((ier & IER_RDA) != 0 && !rx.isEmpty()) {
      return IIR_RDA;
    }
    if ((ier & IER_THRE) != 0 && threInterruptPending) {
      return IIR_THRE;
    }
    if ((ier & IER_MS) != 0 && (readMsr() & 0x0f) != 0) {
      return IIR_MS;
    }
    return IIR_NO_INTERRUPT;
  }

  private int readLsr() {
    int lsr = LSR_THRE | LSR_TEMT;
    if (!rx.isEmpty()) {
      lsr |= LSR_DR;
    }
    return lsr;
  }

  private int readMsr() {
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
    // A connected, ready terminal: carrier, data set ready, clear to send; no changes to report.
    return MSR_DCD | MSR_DSR | MSR_CTS;
  }

  private void writeFcr(int value) {
    fifoEnabled = (value & FCR_ENABLE) != 0;
    if ((value & FCR_CLEAR_RX) != 0) {
      rx.clear();
    }
    // FCR_CLEAR_TX: the transmitter is always empty already.
  }

  private void transmit(int value) {
    if ((mcr & MCR_LOOP) != 0) {
      enqueue((byte) value);
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
    // The byte left the holding register at once: THRE rises again, and so does its interrupt.
    threInterruptPending = true;
  }

  private void enqueue(byte b) {
    rx.addLast(b);
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
