package dev.toykvm.kernel.irq;

import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PC's 8254 programmable interval timer at I/O ports 0x40-0x43, and the bits of port 0x61 (NMI
 * status and control) that belong to it, as KVM's {@code KVM_CREATE_PIT2} models them.
 *
 * <p>Written from the Intel 8254 datasheet: three counters clocked at 1.193182 MHz (from the
 * injectable clock, see {@link PitChannel} for the few simplifications), modes 0-5, the control
 * word (counter, RW, mode, BCD), the counter latch command, the read-back command (count and
 * status), and LSB/MSB/both access. Counters 0 and 1 have their gate tied high; counter 2's gate is
 * port 0x61 bit 0. Counter 0's output drives IRQ 0: {@link #serviceIrq0} pulses the line once for
 * the rising edges since the last call (missed periods coalesce, as the PIC's IRR holds one) and
 * {@link #nextIrq0Deadline} says when to call it next.
 *
 * <p>Port 0x61 (the PC/AT's system control port B): bit 0 counter 2's gate, bit 1 speaker data
 * enable, bits 2-3 as written (parity and I/O channel check enables, which nothing raises here),
 * bit 4 the refresh toggle (flips every 15.085 us of the clock: firmware polls it to wait), bit 5
 * counter 2's output, bits 6-7 read 0.
 *
 * <p>Odd accesses (wider than a byte, a read of the write-only control port) are counted ({@link
 * #oddAccesses()}), logged once, and answered as on an ISA bus: wider accesses split into bytes,
 * the control port reads 0xff.
 *
 * <p>Not thread-safe: the owner serialises every call.
 */
public final class Pit8254 {
  private static final Logger log = LoggerFactory.getLogger(Pit8254.class);

  public static final int COUNTER0 = 0x40;
  public static final int COUNTER2 = 0x42;
  public static final int CONTROL = 0x43;
  public static final int PORT_B = 0x61;

  /** The input clock, in Hz. */
  public static final long FREQUENCY_HZ = PitClock.FREQUENCY_HZ;

  /** Half the period of the DRAM refresh request that port 0x61 bit 4 shows. */
  public static final long REFRESH_TOGGLE_NS = 15_085;

  public static final int PORT_B_GATE2 = 0x01;
  public static final int PORT_B_SPEAKER = 0x02;
  public static final int PORT_B_REFRESH = 0x10;
  public static final int PORT_B_OUT2 = 0x20;

  /** IRQ 0, as the PIT drives it. */
  @FunctionalInterface
  public interface Irq0 {
    void irq0(boolean level);
  }

  private final PitClock clock;
  private final Irq0 irq0;
  private final PitChannel[] channels = {
    new PitChannel(true), new PitChannel(true), new PitChannel(false)
  };
  private final OddAccesses odd = new OddAccesses(log, "8254 PIT");
  private int portB; // bits 0-3 as written
  private long irq0ServicedTick;

  /**
   * @param nanoTime the monotonic clock the counters count on
   * @param irq0 receives counter 0's interrupt pulses
   */
  public Pit8254(LongSupplier nanoTime, Irq0 irq0) {
    this.clock = new PitClock(nanoTime);
    this.irq0 = irq0;
  }

  /**
   * Pulses IRQ 0 (high, then low: an edge, as KVM's PIT does) if counter 0's output rose since the
   * last call.
   *
   * @return how many rising edges there were (more than one means ticks were coalesced)
   */
  public long serviceIrq0() {
    long now = clock.ticks();
    long edges = channels[0].risingEdges(irq0ServicedTick, now);
    irq0ServicedTick = now;
    if (edges > 0) {
      irq0.irq0(true);
      irq0.irq0(false);
    }
    return edges;
  }

  /** When counter 0's output next rises (nanoseconds on the clock), or {@code Long.MAX_VALUE}. */
  public long nextIrq0Deadline() {
    long edge = channels[0].nextRisingEdge(clock.ticks());
    return edge == Long.MAX_VALUE ? edge : clock.nanosAt(edge);
  }

  /** Counter {@code n}'s output now. */
  public boolean out(int n) {
    return channels[n].out(clock.ticks());
  }

  /** How many accesses the guest made that a driver would not make. */
  public long oddAccesses() {
    return odd.count();
  }

  /** Reads {@code size} bytes from I/O port {@code port} (0x40-0x43 or 0x61). */
  public long read(long port, int size) {
    return BytePorts.read(odd, port, size, this::readByte);
  }

  /** Writes the low {@code size} bytes of {@code value} to I/O port {@code port}. */
  public void write(long port, int size, long value) {
    BytePorts.write(odd, port, size, value, this::writeByte);
  }

  private int readByte(long port) {
    long now = clock.ticks();
    if (port >= COUNTER0 && port <= COUNTER2) {
      return channels[(int) port - COUNTER0].read(now);
    }
    if (port == PORT_B) {
      boolean refresh = (clock.nanos() / REFRESH_TOGGLE_NS & 1) != 0;
      return portB | (refresh ? PORT_B_REFRESH : 0) | (channels[2].out(now) ? PORT_B_OUT2 : 0);
    }
    odd.record("a read at port 0x%x", port);
    return 0xff;
  }

  private void writeByte(long port, int value) {
    long now = clock.ticks();
    if (port >= COUNTER0 && port <= COUNTER2) {
      PitChannel channel = channels[(int) port - COUNTER0];
      if (channel.writeCount(value, now) && port == COUNTER0) {
        irq0ServicedTick = now; // edges of the old count are gone with it
      }
    } else if (port == CONTROL) {
      control(value, now);
    } else if (port == PORT_B) {
      portB = value & 0x0f;
      channels[2].setGate((value & PORT_B_GATE2) != 0, now);
    } else {
      odd.record("a write at port 0x%x", port);
    }
  }

  private void control(int value, long now) {
    int select = value >>> 6;
    if (select == 3) { // read-back: bit 5 low latches counts, bit 4 low latches status
      for (int n = 0; n < 3; n++) {
        if ((value & (2 << n)) != 0) {
          if ((value & 0x20) == 0) {
            channels[n].latchCount(now);
          }
          if ((value & 0x10) == 0) {
            channels[n].latchStatus(now);
          }
        }
      }
      return;
    }
    int access = (value >>> 4) & 3;
    if (access == 0) {
      channels[select].latchCount(now);
      return;
    }
    int mode = (value >>> 1) & 7;
    channels[select].control(mode > 5 ? mode - 4 : mode, access, (value & 1) != 0);
  }
}
