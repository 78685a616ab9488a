package dev.toykvm.kernel.irq;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PC's two cascaded 8259A programmable interrupt controllers: the master at I/O ports 0x20/0x21
 * with the slave's INT on its IR2, the slave at 0xa0/0xa1, and the EISA edge/level control
 * registers (ELCR) at 0x4d0/0x4d1. IRQs 0-7 are the master's inputs, 8-15 the slave's.
 *
 * <p>Written from the Intel 8259A datasheet (section numbers below refer to it): the initialization
 * sequence ICW1-ICW4, the operation command words OCW1 (IMR), OCW2 (EOI, specific EOI, rotation,
 * set priority) and OCW3 (read IRR/ISR, poll, special mask), automatic EOI, special fully nested
 * mode, and the interrupt acknowledge that returns a vector. Input lines follow KVM's {@code
 * KVM_IRQ_LINE} semantics ({@link #setIrq}). Not modelled: 8080/8085 mode (ICW1 bit 2 and ICW4 bit
 * 0 are accepted and ignored, the chip always runs in 8086 mode), buffered mode (ICW4 bits 2-3 have
 * no effect on a bus without buffers).
 *
 * <p>Odd accesses (a word or wider access, a port outside the six) are counted ({@link
 * #oddAccesses()}), logged once, and answered as on an ISA bus: a wider access is split into byte
 * accesses to consecutive ports, a port that is not the PIC's reads 0xff and ignores writes.
 *
 * <p>Not thread-safe: the owner serialises every call.
 */
public final class Pic8259Pair {
  private static final Logger log = LoggerFactory.getLogger(Pic8259Pair.class);

  public static final int MASTER_COMMAND = 0x20;
  public static final int MASTER_DATA = 0x21;
  public static final int SLAVE_COMMAND = 0xa0;
  public static final int SLAVE_DATA = 0xa1;
  public static final int ELCR_MASTER = 0x4d0;
  public static final int ELCR_SLAVE = 0x4d1;

  /** The master input the slave's INT is wired to. */
  public static final int CASCADE_IRQ = 2;

  /** What the PICs tell their owner: the INTR output and acknowledged interrupts. */
  public interface Listener {
    /** The master's INTR output changed to {@code level}. */
    default void intr(boolean level) {}

    /**
     * IRQ {@code irq} (0-15) left service: an EOI for it, or its acknowledge in automatic-EOI mode
     * (where KVM runs its ack notifiers, which irqfd resampling hangs on).
     */
    default void acked(int irq) {}
  }

  private final Chip master = new Chip(0, 0xf8); // IRQ 0, 1, 2 are edge-only on a PC
  private final Chip slave = new Chip(8, 0xde); // IRQ 8 (RTC) and 13 (FPU) are edge-only
  private final Listener listener;
  private final OddAccesses odd = new OddAccesses(log, "8259 PIC");
  private boolean intr;

  public Pic8259Pair(Listener listener) {
    this.listener = listener;
  }

  /**
   * Drives input line {@code irq} (0-15) to {@code level}, as {@code KVM_IRQ_LINE} does: for an
   * edge-triggered input a rising edge (low to high) sets its IRR bit, which stays set until the
   * interrupt is acknowledged; for a level-triggered input (ELCR bit set, or ICW1.LTIM) the IRR bit
   * follows the line.
   *
   * @throws IllegalArgumentException if {@code irq} is not 0-15 (the owner's bug, not the guest's)
   */
  public void setIrq(int irq, boolean level) {
    if (irq < 0 || irq > 15) {
      throw new IllegalArgumentException("cannot set PIC input " + irq + ": not 0-15");
    }
    (irq < 8 ? master : slave).setInput(irq & 7, level);
    update();
  }

  /** The master's INTR output: whether an interrupt is waiting to be acknowledged. */
  public boolean intr() {
    return intr;
  }

  /**
   * The interrupt acknowledge cycle (datasheet "Interrupt Sequence"): the highest-priority pending
   * request moves from IRR to ISR (not in automatic-EOI mode) and its vector is returned. A request
   * from the slave goes through the master's IR2. With no request left (it went away before the
   * acknowledge), the chip answers with IR7's vector and sets no ISR bit: the spurious interrupt,
   * IRQ 7 from the master or IRQ 15 from the slave.
   */
  public int acknowledge() {
    int vector;
    int irq = master.highestRequest();
    if (irq < 0) {
      vector = master.vectorBase | 7;
    } else {
      master.acknowledge(irq);
      if (irq == CASCADE_IRQ && !master.singleMode) {
        int slaveIrq = slave.highestRequest();
        if (slaveIrq < 0) {
          vector = slave.vectorBase | 7;
        } else {
          slave.acknowledge(slaveIrq);
          vector = slave.vectorBase | slaveIrq;
        }
      } else {
        vector = master.vectorBase | irq;
      }
    }
    update();
    return vector;
  }

  /** How many accesses the guest made that a driver would not make. */
  public long oddAccesses() {
    return odd.count();
  }

  /**
   * Reads {@code size} bytes from I/O port {@code port} (one of the six above; a wider access is
   * split into consecutive byte ports).
   */
  public long read(long port, int size) {
    return BytePorts.read(odd, port, size, this::readByte);
  }

  /** Writes the low {@code size} bytes of {@code value} to I/O port {@code port}. */
  public void write(long port, int size, long value) {
    BytePorts.write(odd, port, size, value, this::writeByte);
  }

  private int readByte(long port) {
    int result =
        switch ((int) port) {
          case MASTER_COMMAND -> master.readCommand();
          case MASTER_DATA -> master.imr;
          case SLAVE_COMMAND -> slave.readCommand();
          case SLAVE_DATA -> slave.imr;
          case ELCR_MASTER -> master.elcr;
          case ELCR_SLAVE -> slave.elcr;
          default -> {
            odd.record("a read at port 0x%x, not a PIC port", port);
            yield 0xff;
          }
        };
    update();
    return result;
  }

  private void writeByte(long port, int value) {
    switch ((int) port) {
      case MASTER_COMMAND -> master.writeCommand(value);
      case MASTER_DATA -> master.writeData(value);
      case SLAVE_COMMAND -> slave.writeCommand(value);
      case SLAVE_DATA -> slave.writeData(value);
      case ELCR_MASTER -> master.elcr = value & master.elcrMask;
      case ELCR_SLAVE -> slave.elcr = value & slave.elcrMask;
      default -> odd.record("a write at port 0x%x, not a PIC port", port);
    }
    update();
  }

  /**
   * Propagates the slave's INT to the master's IR2 and the master's INT to INTR. As in KVM, the
   * slave's request latches the master's IR2 like an edge each time: if it goes away before the
   * acknowledge, the slave answers with its spurious IRQ 15.
   */
  private void update() {
    master.updated();
    slave.updated();
    if (slave.highestRequest() >= 0) {
      master.irr |= 1 << CASCADE_IRQ;
    }
    boolean now = master.highestRequest() >= 0;
    if (now != intr) {
      intr = now;
      listener.intr(now);
    }
  }

  /** One 8259A. */
  private final class Chip {
    final int irqBase; // 0 for the master, 8 for the slave: for the listener's IRQ numbers
    final int elcrMask;
    int irr;
    int isr;
    int imr;
    int elcr;
    int lines; // the input levels last seen, for edge detection
    int lowestPriority = 7; // the IR with the lowest priority; rotation moves it
    int vectorBase;
    int initStep; // 0: initialized; 2, 3, 4: the ICW expected next
    boolean icw4Needed;
    boolean singleMode;
    boolean levelTriggeredMode; // ICW1.LTIM
    boolean autoEoi;
    boolean rotateInAutoEoi;
    boolean specialFullyNested;
    boolean specialMask;
    boolean readIsr;
    boolean poll;

    Chip(int irqBase, int elcrMask) {
      this.irqBase = irqBase;
      this.elcrMask = elcrMask;
    }

    int levelTriggered() {
      return levelTriggeredMode ? 0xff : elcr;
    }

    void setInput(int ir, boolean level) {
      int bit = 1 << ir;
      if ((levelTriggered() & bit) != 0) {
        irr = level ? irr | bit : irr & ~bit;
      } else if (level && (lines & bit) == 0) {
        irr |= bit;
      }
      lines = level ? lines | bit : lines & ~bit;
    }

    /** After a write: a level-triggered IRR bit follows its line again (ELCR may have changed). */
    void updated() {
      int level = levelTriggered();
      irr = (irr & ~level) | (lines & level);
    }

    /** The IR at priority rank {@code rank} (0 = highest). */
    int irAtRank(int rank) {
      return (lowestPriority + 1 + rank) & 7;
    }

    /** The priority rank of the highest-priority bit set in {@code bits}, or 8 if none. */
    int highestRank(int bits) {
      for (int rank = 0; rank < 8; rank++) {
        if ((bits & (1 << irAtRank(rank))) != 0) {
          return rank;
        }
      }
      return 8;
    }

    /**
     * The IR this chip would interrupt for now, or -1: the highest-priority unmasked request that
     * outranks everything in service (fully nested mode, "Interrupt Sequence" and "Fully Nested
     * Mode"). In special mask mode a masked IR in service does not inhibit lower ones; in special
     * fully nested mode the master lets the slave interrupt again while IR2 is in service.
     */
    int highestRequest() {
      if (initStep != 0) {
        return -1;
      }
      int request = highestRank(irr & ~imr);
      if (request == 8) {
        return -1;
      }
      int inService = isr;
      if (specialMask) {
        inService &= ~imr;
      }
      if (specialFullyNested && this == master) {
        inService &= ~(1 << CASCADE_IRQ);
      }
      return request < highestRank(inService) ? irAtRank(request) : -1;
    }

    void acknowledge(int ir) {
      int bit = 1 << ir;
      if ((levelTriggered() & bit) == 0) {
        irr &= ~bit; // a level-triggered request stays while its line is high
      }
      if (autoEoi) {
        if (rotateInAutoEoi) {
          lowestPriority = ir;
        }
        listener.acked(irqBase + ir);
      } else {
        isr |= bit;
      }
    }

    void endOfInterrupt(int ir, boolean rotate) {
      isr &= ~(1 << ir);
      if (rotate) {
        lowestPriority = ir;
      }
      listener.acked(irqBase + ir);
    }

    int readCommand() {
      if (poll) {
        // "Poll Command": the read acts as an interrupt acknowledge; bit 7 says whether an
        // interrupt was requested, bits 2-0 which IR.
        poll = false;
        int ir = highestRequest();
        if (ir < 0) {
          return 0;
        }
        acknowledge(ir); // on the master, IR2 means: poll the slave next
        return 0x80 | ir;
      }
      return readIsr ? isr : irr;
    }

    void writeCommand(int value) {
      if ((value & 0x10) != 0) { // ICW1
        icw1(value);
      } else if ((value & 0x08) != 0) { // OCW3
        if ((value & 0x04) != 0) {
          poll = true;
        }
        if ((value & 0x02) != 0) {
          readIsr = (value & 0x01) != 0;
        }
        if ((value & 0x40) != 0) {
          specialMask = (value & 0x20) != 0;
        }
      } else { // OCW2
        ocw2(value);
      }
    }

    private void icw1(int value) {
      // "Initialization Command Words": the sequence clears IMR, sets IR7 lowest priority,
      // clears special mask mode and selects IRR for reading. A latched edge is forgotten: the
      // edge sense circuit is reset, so an input must go low and high again.
      imr = 0;
      isr = 0;
      irr &= elcr;
      lines = 0;
      lowestPriority = 7;
      specialMask = false;
      readIsr = false;
      poll = false;
      autoEoi = false;
      rotateInAutoEoi = false;
      specialFullyNested = false;
      icw4Needed = (value & 0x01) != 0;
      singleMode = (value & 0x02) != 0;
      levelTriggeredMode = (value & 0x08) != 0;
      initStep = 2;
    }

    private void ocw2(int value) {
      int command = value >>> 5;
      int level = value & 7;
      switch (command) {
        case 0b000 -> rotateInAutoEoi = false;
        case 0b100 -> rotateInAutoEoi = true;
        case 0b001, 0b101 -> { // non-specific EOI, rotate on non-specific EOI
          int rank = highestRank(isr);
          if (rank != 8) {
            endOfInterrupt(irAtRank(rank), command == 0b101);
          }
        }
        case 0b011 -> endOfInterrupt(level, false); // specific EOI
        case 0b111 -> endOfInterrupt(level, true); // rotate on specific EOI
        case 0b110 -> lowestPriority = level; // set priority
        default -> {} // 010: no operation
      }
    }

    void writeData(int value) {
      switch (initStep) {
        case 0 -> imr = value; // OCW1
        case 2 -> { // ICW2: T7-T3 of the vector
          vectorBase = value & 0xf8;
          initStep = !singleMode ? 3 : icw4Needed ? 4 : 0;
        }
        case 3 -> initStep = icw4Needed ? 4 : 0; // ICW3: the cascade wiring is fixed on a PC
        case 4 -> { // ICW4
          autoEoi = (value & 0x02) != 0;
          specialFullyNested = (value & 0x10) != 0;
          initStep = 0;
        }
        default -> throw new AssertionError(initStep);
      }
    }
  }
}
