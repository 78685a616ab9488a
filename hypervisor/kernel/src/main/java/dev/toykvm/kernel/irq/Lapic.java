package dev.toykvm.kernel.irq;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmException;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One vCPU's local APIC in xAPIC mode, its register page at MMIO 0xfee00000, as KVM models it.
 *
 * <p>Written from the Intel SDM vol. 3A chapter 11 ("Advanced Programmable Interrupt Controller";
 * chapter 10 in older editions; section numbers below are chapter 11's): the register map of Table
 * 11-1, the version register as KVM reports it (0x50014: version 0x14, six LVT entries, no
 * directed-EOI), TPR/PPR priorities (11.8.3.1), IRR/ISR/TMR and EOI (11.8.4-11.8.5), the spurious
 * vector register and software enable (11.9, 11.4.7.2), the error status register (11.5.3), the ICR
 * and its IPIs (11.6.1), the LVT (11.5.1) and the timer (11.5.4, see {@link LapicTimer}: 1 GHz bus
 * clock, one-shot and periodic; TSC-deadline is not advertised, CPUID has no bit for it here).
 *
 * <p>IA32_APIC_BASE cannot be read or written through Unicorn 2.0.1 (design.md), so the APIC is
 * hardware-enabled at 0xfee00000 from reset; {@link #setHardwareEnabled} is for the kernel side
 * (KVM_SET_MSRS, if it ever exists). What this class does not do itself: routing IPIs and messages
 * to other APICs (the owner matches {@link #matchesDestination}), and the non-fixed delivery modes
 * (NMI, INIT, SIPI, SMI, ExtINT), which the vCPU's state machine handles.
 *
 * <p>Odd accesses (not an aligned 32-bit write, a read crossing a register, a reserved register)
 * are counted ({@link #oddAccesses()}), logged once and answered as KVM does: the write is dropped,
 * the read returns 0; a reserved register also sets ESR's "illegal register address".
 *
 * <p>Not thread-safe: the vCPU that owns it serialises every call (the owner must lock around
 * {@link #acceptInterrupt} from another vCPU).
 */
public final class Lapic {
  private static final Logger log = LoggerFactory.getLogger(Lapic.class);

  public static final long DEFAULT_BASE = 0xfee00000L;
  public static final int MMIO_SIZE = 0x1000;

  /** The size of {@code struct kvm_lapic_state}: the first 1 KiB of the register page. */
  public static final int STATE_SIZE = 0x400;

  // Register offsets (SDM Table 11-1).
  public static final int ID = 0x20;
  public static final int VERSION = 0x30;
  public static final int TPR = 0x80;
  public static final int APR = 0x90;
  public static final int PPR = 0xa0;
  public static final int EOI = 0xb0;
  public static final int RRD = 0xc0;
  public static final int LDR = 0xd0;
  public static final int DFR = 0xe0;
  public static final int SPIV = 0xf0;
  public static final int ISR = 0x100;
  public static final int TMR = 0x180;
  public static final int IRR = 0x200;
  public static final int ESR = 0x280;
  public static final int ICR_LOW = 0x300;
  public static final int ICR_HIGH = 0x310;
  public static final int LVT_TIMER = 0x320;
  public static final int LVT_THERMAL = 0x330;
  public static final int LVT_PERF = 0x340;
  public static final int LVT_LINT0 = 0x350;
  public static final int LVT_LINT1 = 0x360;
  public static final int LVT_ERROR = 0x370;
  public static final int TIMER_INITIAL = 0x380;
  public static final int TIMER_CURRENT = 0x390;
  public static final int TIMER_DIVIDE = 0x3e0;

  /** KVM's version register: version 0x14, maximum LVT entry 5 (six entries). */
  public static final int VERSION_VALUE = 0x50014;

  public static final int SPIV_ENABLE = 1 << 8;
  public static final int LVT_MASKED = 1 << 16;
  public static final int LVT_PERIODIC = 1 << 17;
  public static final int ICR_DELIVERY_STATUS = 1 << 12;

  // ESR bits (SDM Figure 11-9).
  public static final int ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
  public static final int ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6;
  public static final int ESR_ILLEGAL_REGISTER = 1 << 7;

  // Writable bits of each LVT entry (SDM Figure 11-8); delivery status and remote IRR are RO.
  private static final int LVT_TIMER_BITS = 0x300ff; // vector, mask, periodic (no TSC-deadline)
  private static final int LVT_MODE_BITS = 0x107ff; // vector, delivery mode, mask
  private static final int LVT_LINT_BITS = 0x1a7ff; // + polarity, trigger mode
  private static final int LVT_ERROR_BITS = 0x100ff; // vector, mask
  private static final int ICR_LOW_BITS = 0xcefff; // vector, modes, level, trigger, shorthand

  /** What a local APIC tells its owner. */
  public interface Listener {
    /** Software sent an IPI through ICR low. */
    void ipi(Ipi ipi);

    /** An EOI completed a level-triggered interrupt (TMR set): broadcast it to the I/O APIC. */
    void levelEoi(int vector);
  }

  private final int[] regs = new int[STATE_SIZE / 16]; // one 32-bit register per 16 bytes
  private final LapicTimer timer = new LapicTimer();
  private final LongSupplier nanoTime;
  private final Listener listener;
  private final OddAccesses odd = new OddAccesses(log, "local APIC");
  private final int apicId;
  private final boolean bootProcessor;
  private boolean hardwareEnabled = true;
  private int errorsSinceEsrWrite;

  /**
   * @param apicId the initial APIC ID (KVM: the vCPU id)
   * @param bootProcessor the BSP's LVT0 starts as ExtINT, unmasked (KVM's LINT0_REENABLED quirk,
   *     the virtual wire a PC's firmware sets up), so the 8259 reaches it from reset
   * @param nanoTime the monotonic clock the timer counts on
   */
  public Lapic(int apicId, boolean bootProcessor, LongSupplier nanoTime, Listener listener) {
    this.apicId = apicId;
    this.bootProcessor = bootProcessor;
    this.nanoTime = nanoTime;
    this.listener = listener;
    reset();
  }

  /** The power-up and INIT state (SDM 11.4.7.1), plus KVM's BSP LVT0. */
  public void reset() {
    java.util.Arrays.fill(regs, 0);
    set(ID, apicId << 24);
    set(VERSION, VERSION_VALUE);
    set(DFR, 0xffff_ffff);
    set(SPIV, 0xff);
    for (int lvt = LVT_TIMER; lvt <= LVT_ERROR; lvt += 0x10) {
      set(lvt, LVT_MASKED);
    }
    if (bootProcessor) {
      set(LVT_LINT0, DeliveryMode.EXTINT.bits() << 8);
    }
    timer.setPeriodic(false);
    timer.setDivide(0, now());
    timer.stop();
    errorsSinceEsrWrite = 0;
  }

  /**
   * An INIT (SDM 11.4.7.3): the same state as at power-up, except that the APIC ID (and with it the
   * arbitration ID) keeps the value software gave it.
   */
  public void init() {
    int id = get(ID);
    reset();
    set(ID, id);
  }

  private long now() {
    return nanoTime.getAsLong();
  }

  private int get(int offset) {
    return regs[offset >>> 4];
  }

  private void set(int offset, int value) {
    regs[offset >>> 4] = value;
  }

  private boolean bit(int base, int vector) {
    return (get(base + ((vector >>> 5) << 4)) & (1 << (vector & 31))) != 0;
  }

  private void setBit(int base, int vector, boolean on) {
    int offset = base + ((vector >>> 5) << 4);
    int mask = 1 << (vector & 31);
    set(offset, on ? get(offset) | mask : get(offset) & ~mask);
  }

  /** The highest vector set in the 256-bit register at {@code base}, or -1. */
  private int highest(int base) {
    for (int i = 7; i >= 0; i--) {
      int word = get(base + (i << 4));
      if (word != 0) {
        return (i << 5) | (31 - Integer.numberOfLeadingZeros(word));
      }
    }
    return -1;
  }

  /** IA32_APIC_BASE bit 11. Disabled, the page reads all-ones and ignores writes, as in KVM. */
  public void setHardwareEnabled(boolean enabled) {
    hardwareEnabled = enabled;
  }

  public boolean hardwareEnabled() {
    return hardwareEnabled;
  }

  /** SPIV bit 8 (SDM 11.4.7.2). */
  public boolean softwareEnabled() {
    return (get(SPIV) & SPIV_ENABLE) != 0;
  }

  public int id() {
    return get(ID) >>> 24;
  }

  /**
   * Whether the 8259's INTR reaches this CPU (KVM's {@code kvm_apic_accept_pic_intr}): the APIC is
   * hardware-disabled, or LVT0 is unmasked with delivery mode ExtINT (the virtual wire).
   */
  public boolean acceptsPicInterrupts() {
    int lvt0 = get(LVT_LINT0);
    return !hardwareEnabled
        || ((lvt0 & LVT_MASKED) == 0 && DeliveryMode.fromBits(lvt0 >>> 8) == DeliveryMode.EXTINT);
  }

  /**
   * Whether a message for {@code dest} in {@code mode} is for this APIC (SDM 11.6.2): physical, its
   * ID or 0xff; logical, the flat model (DFR 1111b) ANDs the destination with LDR's bits 31:24, the
   * cluster model (DFR 0000b) matches the cluster in bits 7:4 and ANDs bits 3:0.
   */
  public boolean matchesDestination(int dest, DestinationMode mode) {
    dest &= 0xff;
    if (!hardwareEnabled) {
      return false;
    }
    if (mode == DestinationMode.PHYSICAL) {
      return dest == 0xff || dest == id();
    }
    if (dest == 0xff) {
      return true;
    }
    int logicalId = get(LDR) >>> 24;
    if ((get(DFR) >>> 28) == 0xf) {
      return (logicalId & dest) != 0;
    }
    return (logicalId >>> 4) == (dest >>> 4) && (logicalId & dest & 0xf) != 0;
  }

  /**
   * A fixed or lowest-priority interrupt arrives (SDM 11.8.3, KVM's {@code __apic_accept_irq}): its
   * IRR bit is set, and its TMR bit set for a level-triggered one and cleared for an edge.
   *
   * @return false if it was dropped: the APIC is disabled (hardware or software), or the vector is
   *     0-15 (ESR "receive illegal vector", 11.5.3: such a vector never sets an IRR bit)
   */
  public boolean acceptInterrupt(int vector, TriggerMode trigger) {
    vector &= 0xff;
    if (!hardwareEnabled || !softwareEnabled()) {
      return false;
    }
    if (vector < 16) {
      error(ESR_RECEIVE_ILLEGAL_VECTOR);
      return false;
    }
    setBit(IRR, vector, true);
    setBit(TMR, vector, trigger == TriggerMode.LEVEL);
    return true;
  }

  /**
   * The vector the CPU would take now, or -1: the highest IRR vector whose priority class (bits
   * 7:4) is above PPR's (SDM 11.8.3.1).
   */
  public int highestPending() {
    if (!hardwareEnabled) {
      return -1;
    }
    int vector = highest(IRR);
    if (vector < 0 || (vector & 0xf0) <= (processorPriority() & 0xf0)) {
      return -1;
    }
    return vector;
  }

  /** The CPU takes {@link #highestPending()}: IRR to ISR. Returns the vector, or -1 if none. */
  public int acknowledge() {
    int vector = highestPending();
    if (vector >= 0) {
      setBit(IRR, vector, false);
      setBit(ISR, vector, true);
    }
    return vector;
  }

  /** PPR (SDM 11.8.3.1): TPR if its class is at least the highest in-service class, else that. */
  private int processorPriority() {
    int tpr = get(TPR) & 0xff;
    int isrv = Math.max(highest(ISR), 0);
    return (tpr & 0xf0) >= (isrv & 0xf0) ? tpr : isrv & 0xf0;
  }

  /** The next time the timer expires (nanoseconds on the clock), or {@code Long.MAX_VALUE}. */
  public long nextDeadline() {
    return timer.deadline();
  }

  /**
   * Expires the timer if its deadline has passed, raising the LVT timer's vector unless masked.
   *
   * @return whether the timer expired (masked or not)
   */
  public boolean serviceTimer() {
    if (!timer.expire(now())) {
      return false;
    }
    int lvt = get(LVT_TIMER);
    if ((lvt & LVT_MASKED) == 0) {
      acceptInterrupt(lvt & 0xff, TriggerMode.EDGE);
    }
    return true;
  }

  /** How many accesses the guest made that a driver would not make. */
  public long oddAccesses() {
    return odd.count();
  }

  /** Reads {@code size} bytes at {@code offset} in the register page. */
  public long read(long offset, int size) {
    if (!hardwareEnabled) {
      return BusMasks.low(size);
    }
    int alignment = (int) (offset & 0xf);
    if (offset < 0 || offset >= MMIO_SIZE || alignment + size > 4) {
      odd.record("a %d-byte read at offset 0x%x", size, offset);
      return 0;
    }
    int register = (int) offset & ~0xf;
    Integer value = readRegister(register);
    if (value == null) {
      odd.record("a read of reserved register 0x%x", register);
      error(ESR_ILLEGAL_REGISTER);
      return 0;
    }
    return ((value & 0xffff_ffffL) >>> (8 * alignment)) & BusMasks.low(size);
  }

  private Integer readRegister(int register) {
    return switch (register) {
      case ID, VERSION, TPR, LDR, DFR, SPIV, ESR, ICR_LOW, ICR_HIGH, TIMER_INITIAL, TIMER_DIVIDE ->
          get(register);
      case LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR -> get(register);
      case APR, EOI, RRD -> 0; // APR reads 0 as in KVM; EOI is write-only; RRD is not on P6+
      case PPR -> processorPriority();
      case TIMER_CURRENT -> (int) timer.currentCount(now());
      default -> register >= ISR && register < ESR ? get(register) : null;
    };
  }

  /** Writes at {@code offset}: only an aligned 32-bit write reaches a register (KVM's rule). */
  public void write(long offset, int size, long value) {
    if (!hardwareEnabled) {
      return;
    }
    if (offset < 0 || offset >= MMIO_SIZE || size != 4 || (offset & 0xf) != 0) {
      odd.record("a %d-byte write at offset 0x%x", size, offset);
      return;
    }
    writeRegister((int) offset, (int) value);
  }

  private void writeRegister(int register, int value) {
    switch (register) {
      case ID -> set(ID, value & 0xff00_0000);
      case TPR -> set(TPR, value & 0xff);
      case EOI -> endOfInterrupt();
      case LDR -> set(LDR, value & 0xff00_0000);
      case DFR -> set(DFR, value | 0x0fff_ffff);
      case SPIV -> writeSpiv(value);
      case ESR -> { // 11.5.3: the write latches the errors seen since the previous write
        set(ESR, errorsSinceEsrWrite);
        errorsSinceEsrWrite = 0;
      }
      case ICR_LOW -> sendIpi(value);
      case ICR_HIGH -> set(ICR_HIGH, value & 0xff00_0000);
      case LVT_TIMER -> {
        set(LVT_TIMER, lvtValue(value, LVT_TIMER_BITS));
        if (timer.setPeriodic((get(LVT_TIMER) & LVT_PERIODIC) != 0)) {
          set(TIMER_INITIAL, 0);
        }
      }
      case LVT_THERMAL, LVT_PERF -> set(register, lvtValue(value, LVT_MODE_BITS));
      case LVT_LINT0, LVT_LINT1 -> set(register, lvtValue(value, LVT_LINT_BITS));
      case LVT_ERROR -> set(register, lvtValue(value, LVT_ERROR_BITS));
      case TIMER_INITIAL -> {
        set(TIMER_INITIAL, value);
        timer.start(value, now());
      }
      case TIMER_DIVIDE -> {
        set(TIMER_DIVIDE, value & 0xb);
        timer.setDivide(value, now());
      }
      case VERSION, APR, PPR, RRD, TIMER_CURRENT -> {} // read-only
      default -> {
        if (register < ISR || register >= ESR) {
          odd.record("a write of reserved register 0x%x", register);
          error(ESR_ILLEGAL_REGISTER);
        } // ISR, TMR, IRR: read-only
      }
    }
  }

  /** While software-disabled every LVT entry stays masked (11.4.7.2). */
  private int lvtValue(int value, int writable) {
    value &= writable;
    return softwareEnabled() ? value : value | LVT_MASKED;
  }

  private void writeSpiv(int value) {
    set(SPIV, value & 0x3ff); // vector, APIC enable, focus processor checking
    if (!softwareEnabled()) {
      for (int lvt = LVT_TIMER; lvt <= LVT_ERROR; lvt += 0x10) {
        set(lvt, get(lvt) | LVT_MASKED);
      }
    }
  }

  /** 11.8.5: clears the highest ISR bit; a level-triggered one is broadcast to the I/O APIC. */
  private void endOfInterrupt() {
    int vector = highest(ISR);
    if (vector < 0) {
      return;
    }
    setBit(ISR, vector, false);
    if (bit(TMR, vector)) {
      listener.levelEoi(vector);
    }
  }

  private void sendIpi(int value) {
    value &= ICR_LOW_BITS; // delivery status reads 0: the IPI is handed over at once
    set(ICR_LOW, value);
    DeliveryMode mode = DeliveryMode.fromBits(value >>> 8);
    int vector = value & 0xff;
    if ((mode == DeliveryMode.FIXED || mode == DeliveryMode.LOWEST_PRIORITY) && vector < 16) {
      error(ESR_SEND_ILLEGAL_VECTOR);
      return;
    }
    listener.ipi(
        new Ipi(
            vector,
            mode,
            DestinationMode.fromBit((value & (1 << 11)) != 0),
            (value & (1 << 14)) != 0,
            TriggerMode.fromBit((value & (1 << 15)) != 0),
            Ipi.Shorthand.fromBits(value >>> 18),
            get(ICR_HIGH) >>> 24));
  }

  /** Logs an error for ESR; the first of its kind since the last ESR write raises LVT error. */
  private void error(int bits) {
    int fresh = bits & ~errorsSinceEsrWrite;
    errorsSinceEsrWrite |= bits;
    int lvt = get(LVT_ERROR);
    if (fresh != 0 && (lvt & LVT_MASKED) == 0) {
      acceptInterrupt(lvt & 0xff, TriggerMode.EDGE);
    }
  }

  /**
   * {@code KVM_GET_LAPIC}: the first 1 KiB of the register page, each 32-bit register little-endian
   * at its offset (the rest of each 16-byte slot 0), with the current count and PPR as a read would
   * see them now.
   */
  public byte[] getState() {
    byte[] state = new byte[STATE_SIZE];
    for (int slot = 0; slot < regs.length; slot++) {
      int offset = slot << 4;
      int value =
          switch (offset) {
            case TIMER_CURRENT -> (int) timer.currentCount(now());
            case PPR -> processorPriority();
            default -> regs[slot];
          };
      for (int i = 0; i < 4; i++) {
        state[offset + i] = (byte) (value >>> (8 * i));
      }
    }
    return state;
  }

  /**
   * {@code KVM_SET_LAPIC}: loads a page {@link #getState} produced. As KVM does, the version
   * register keeps KVM's value, and a timer with an initial count restarts from it now.
   *
   * @throws KvmException {@code EINVAL} if {@code state} is not {@link #STATE_SIZE} bytes
   */
  public void setState(byte[] state) {
    if (state == null || state.length != STATE_SIZE) {
      throw new KvmException(
          "KVM_SET_LAPIC",
          Errno.EINVAL,
          "the state is " + (state == null ? "null" : state.length + " bytes") + ", not 1024");
    }
    for (int slot = 0; slot < regs.length; slot++) {
      int offset = slot << 4;
      regs[slot] =
          (state[offset] & 0xff)
              | (state[offset + 1] & 0xff) << 8
              | (state[offset + 2] & 0xff) << 16
              | (state[offset + 3] & 0xff) << 24;
    }
    set(VERSION, VERSION_VALUE);
    set(TIMER_CURRENT, 0);
    set(PPR, 0);
    errorsSinceEsrWrite = 0;
    long now = now();
    timer.setPeriodic((get(LVT_TIMER) & LVT_PERIODIC) != 0);
    timer.setDivide(get(TIMER_DIVIDE), now);
    timer.start(get(TIMER_INITIAL), now);
  }
}
