package dev.toykvm.kernel.irq;

import java.util.function.Consumer;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The 82093AA I/O APIC at MMIO 0xfec00000, with 24 input pins, as KVM models it.
 *
 * <p>Written from the Intel 82093AA datasheet (sections named below): the two directly addressed
 * registers IOREGSEL (offset 0x00) and IOWIN (0x10), and behind them IOAPICID (0x00), IOAPICVER
 * (0x01: version 0x11, maximum redirection entry 23), IOAPICARB (0x02) and the 24 64-bit
 * redirection entries IOREDTBL0-23 (0x10-0x3f, low dword first).
 *
 * <p>Inputs follow KVM's {@code KVM_IRQ_LINE}: {@code level} means asserted, whatever the entry's
 * polarity bit says (KVM stores the polarity and does not apply it; the routing layer speaks in
 * asserted/deasserted). An edge-triggered pin sends one message per rising edge; a level-triggered
 * pin sends one and sets Remote IRR, and sends again after the EOI ({@link #eoi}) if the line is
 * still asserted, or when it is unmasked with the line asserted. A masked pin sends nothing; a
 * masked edge is lost, as the datasheet says. Delivery status (bit 12) always reads 0 (idle): a
 * message is handed to the callback at once.
 *
 * <p>Accesses other than an aligned 32-bit access to IOREGSEL or IOWIN are counted ({@link
 * #oddAccesses()}) and logged once: narrower accesses read/write the low bytes of the register,
 * other offsets read 0 and ignore writes.
 *
 * <p>Not thread-safe: the owner serialises every call.
 */
public final class IoApic {
  private static final Logger log = LoggerFactory.getLogger(IoApic.class);

  public static final long DEFAULT_BASE = 0xfec00000L;

  /** The size of the MMIO window KVM gives it. */
  public static final int MMIO_SIZE = 0x100;

  public static final int IOREGSEL = 0x00;
  public static final int IOWIN = 0x10;

  public static final int REG_ID = 0x00;
  public static final int REG_VERSION = 0x01;
  public static final int REG_ARBITRATION = 0x02;
  public static final int REG_REDIRECTION_TABLE = 0x10;

  public static final int PINS = 24;

  /** IOAPICVER: version 0x11, maximum redirection entry (PINS - 1) in bits 23:16. */
  public static final int VERSION = 0x11 | ((PINS - 1) << 16);

  // Redirection entry bits (datasheet 3.2.4).
  public static final long VECTOR = 0xffL;
  public static final long DEST_MODE_LOGICAL = 1L << 11;
  public static final long DELIVERY_STATUS = 1L << 12;
  public static final long POLARITY_LOW = 1L << 13;
  public static final long REMOTE_IRR = 1L << 14;
  public static final long TRIGGER_LEVEL = 1L << 15;
  public static final long MASKED = 1L << 16;

  /**
   * The bits software can write: vector, delivery mode, destination mode, polarity, trigger, mask.
   */
  private static final long WRITABLE = 0xff00_0000_0000_0000L | 0x1_afffL;

  private final Consumer<InterruptRequest> deliver;
  private final IntConsumer acked;
  private final OddAccesses odd = new OddAccesses(log, "I/O APIC");
  private final long[] redirection = new long[PINS];
  private int ioregsel;
  private int id;
  private int lines; // asserted input pins

  /**
   * @param deliver receives each interrupt message (KVM's {@code kvm_irq_delivery_to_apic})
   * @param acked told the pin whose level-triggered interrupt an EOI completed (KVM's ack
   *     notifiers, which irqfd resampling hangs on)
   */
  public IoApic(Consumer<InterruptRequest> deliver, IntConsumer acked) {
    this.deliver = deliver;
    this.acked = acked;
    reset();
  }

  /** The state after RESET: every entry masked and zero, ID 0. */
  public void reset() {
    java.util.Arrays.fill(redirection, MASKED);
    ioregsel = 0;
    id = 0;
    lines = 0;
  }

  /**
   * Drives input {@code pin} to {@code level} (asserted or not), as {@code KVM_IRQ_LINE} does.
   *
   * @throws IllegalArgumentException if {@code pin} is not 0-23 (the owner's bug)
   */
  public void setIrq(int pin, boolean level) {
    if (pin < 0 || pin >= PINS) {
      throw new IllegalArgumentException("cannot set I/O APIC pin " + pin + ": not 0-23");
    }
    int bit = 1 << pin;
    boolean wasHigh = (lines & bit) != 0;
    lines = level ? lines | bit : lines & ~bit;
    if (!level) {
      return;
    }
    boolean edge = (redirection[pin] & TRIGGER_LEVEL) == 0;
    if (edge && wasHigh) {
      return; // no new edge
    }
    service(pin);
  }

  /**
   * An EOI broadcast for {@code vector} from a local APIC (for a level-triggered interrupt, TMR
   * set): every level-triggered entry with that vector gets Remote IRR cleared, and is serviced
   * again if its line is still asserted and it is unmasked (datasheet 3.2.4, bit 14).
   */
  public void eoi(int vector) {
    for (int pin = 0; pin < PINS; pin++) {
      long entry = redirection[pin];
      if ((entry & VECTOR) != (vector & 0xff) || (entry & TRIGGER_LEVEL) == 0) {
        continue;
      }
      redirection[pin] = entry & ~REMOTE_IRR;
      acked.accept(pin);
      if ((lines & (1 << pin)) != 0) {
        service(pin);
      }
    }
  }

  /** The redirection entry of {@code pin}, as software reads it. */
  public long redirectionEntry(int pin) {
    return redirection[pin];
  }

  /** How many accesses the guest made that a driver would not make. */
  public long oddAccesses() {
    return odd.count();
  }

  /** Reads {@code size} bytes at {@code offset} in the MMIO window. */
  public long read(long offset, int size) {
    long value;
    if (offset == IOREGSEL) {
      value = ioregsel;
    } else if (offset == IOWIN) {
      value = readIndirect();
    } else {
      odd.record("a %d-byte read at offset 0x%x", size, offset);
      return 0;
    }
    if (size != 4) {
      odd.record("a %d-byte read at offset 0x%x", size, offset);
    }
    return size >= 8 ? value & 0xffff_ffffL : value & BusMasks.low(size);
  }

  /** Writes the low {@code size} bytes of {@code value} at {@code offset} in the MMIO window. */
  public void write(long offset, int size, long value) {
    if (size != 4) {
      odd.record("a %d-byte write at offset 0x%x", size, offset);
    }
    int data = (int) (value & BusMasks.low(Math.min(size, 4)));
    if (offset == IOREGSEL) {
      ioregsel = data & 0xff;
    } else if (offset == IOWIN) {
      writeIndirect(data);
    } else {
      odd.record("a %d-byte write at offset 0x%x", size, offset);
    }
  }

  private int readIndirect() {
    return switch (ioregsel) {
      case REG_ID -> id << 24;
      case REG_VERSION -> VERSION;
      case REG_ARBITRATION -> id << 24; // the arbitration ID is loaded from the APIC ID
      default -> {
        int index = ioregsel - REG_REDIRECTION_TABLE;
        if (index < 0 || index >= 2 * PINS) {
          odd.record("a read of register 0x%x, which does not exist", ioregsel);
          yield 0;
        }
        long entry = redirection[index >> 1];
        yield (int) ((index & 1) == 0 ? entry : entry >>> 32);
      }
    };
  }

  private void writeIndirect(int data) {
    switch (ioregsel) {
      case REG_ID -> id = (data >>> 24) & 0xf;
      case REG_VERSION, REG_ARBITRATION -> {} // read-only
      default -> {
        int index = ioregsel - REG_REDIRECTION_TABLE;
        if (index < 0 || index >= 2 * PINS) {
          odd.record("a write of register 0x%x, which does not exist", ioregsel);
          return;
        }
        int pin = index >> 1;
        long old = redirection[pin];
        long written =
            (index & 1) == 0
                ? (old & 0xffff_ffff_0000_0000L) | (data & 0xffff_ffffL)
                : (old & 0xffff_ffffL) | ((long) data << 32);
        long entry = (written & WRITABLE) | (old & REMOTE_IRR);
        if ((entry & TRIGGER_LEVEL) == 0) {
          // As KVM does: Linux and Xen expect an entry switched to edge to drop its Remote IRR.
          entry &= ~REMOTE_IRR;
        }
        redirection[pin] = entry;
        if ((entry & (TRIGGER_LEVEL | MASKED | REMOTE_IRR)) == TRIGGER_LEVEL
            && (lines & (1 << pin)) != 0) {
          service(pin); // an asserted level line, just unmasked (or switched to level)
        }
      }
    }
  }

  /** Sends pin {@code pin}'s message unless it is masked or a level interrupt is in flight. */
  private void service(int pin) {
    long entry = redirection[pin];
    boolean level = (entry & TRIGGER_LEVEL) != 0;
    if ((entry & MASKED) != 0 || (level && (entry & REMOTE_IRR) != 0)) {
      return;
    }
    if (level) {
      redirection[pin] = entry | REMOTE_IRR;
    }
    deliver.accept(
        new InterruptRequest(
            (int) (entry >>> 56),
            DestinationMode.fromBit((entry & DEST_MODE_LOGICAL) != 0),
            DeliveryMode.fromBits((int) (entry >>> 8)),
            (int) (entry & VECTOR),
            true,
            TriggerMode.fromBit(level)));
  }
}
