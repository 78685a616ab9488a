package dev.toykvm.devices.pc;

import dev.toykvm.devices.BusDevice;
import dev.toykvm.devices.IrqLine;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * A PC's CMOS RAM and real-time clock: a Motorola MC146818 behind I/O ports 0x70 (index) and 0x71
 * (data), with the memory-size bytes QEMU stores there for firmware.
 *
 * <p>Port 0x70 takes the index of one of 128 bytes (bits 0-6) and the NMI-disable bit (bit 7, kept
 * and readable with {@link #nmiDisabled()}, not wired); it reads 0xff, as on QEMU. Port 0x71 reads
 * or writes the byte at the index; the index does not move. A wider access is split into byte
 * accesses to consecutive ports (as an 8-bit ISA device sees it).
 *
 * <p>The clock (the MC146818 datasheet's registers 0x00-0x0d):
 *
 * <ul>
 *   <li>Seconds, minutes, hours, day of week (1 = Sunday), day of month, month, year (0-99) and the
 *       century at 0x32 (IBM's century byte) come from the injected {@link Clock} in UTC (as QEMU's
 *       {@code -rtc base=utc}) plus an offset the guest sets by writing them. Register B's DM bit
 *       (binary, else BCD) and 24/12 bit (else 12-hour, bit 7 = PM) give their format; the default,
 *       as on a PC, is BCD and 24-hour (register B = 0x02).
 *   <li>Setting B's SET bit freezes the time the guest reads and lets it write the fields; clearing
 *       it starts the clock from what was written. A write to a field while SET is clear sets it at
 *       once. A field reads back as written until the clock moves on a second; a date that does not
 *       exist (31 February, hour 25), which the datasheet leaves undefined, then rolls over (to 2
 *       March, to 1 o'clock the next day). The day of week is always derived from the date: writes
 *       to it are ignored.
 *   <li>Register A: UIP (bit 7) reads as set during the last 244 µs of each second of the clock, as
 *       the datasheet's update cycle; but never on two reads in a row, so a guest polling for UIP
 *       to fall is never stuck on a frozen clock. UIP is clear while SET is set. Bits 0-6 (divider
 *       and rate) are kept, 0x26 by default (32.768 kHz, 1024 Hz).
 *   <li>Register D reads 0x80 (VRT: time and RAM valid) and ignores writes.
 * </ul>
 *
 * <p>Interrupts (IRQ 8, through the injected {@link IrqLine}), as the datasheet has them: register
 * C's flags are set whatever register B enables, PF at each period of the rate register A's bits
 * 0-3 select (rate 1 and 2 are 256 and 128 Hz, rate n from 3 to 15 is 65536 >> n Hz, 0 none), UF at
 * each update (each second of the clock, not while SET is set), AF at an update whose time matches
 * the three alarm bytes (0x01, 0x03, 0x05, compared in the current format; a byte with its two top
 * bits set, 0xc0-0xff, matches any value). IRQF (bit 7) is set while a flag is set whose enable bit
 * in register B is (PF with PIE 0x40, AF with AIE 0x20, UF with UIE 0x10), and the line follows
 * IRQF: raised when it is set, lowered when register C is read, which returns the flags and clears
 * them all. Writes to C are ignored. Periods and updates stop while the divider is in reset
 * (register A's bits 4-6 = 11x). The periods are aligned to the clock's seconds, as the divider
 * chain is. The device has no thread: the flags are brought up to date at each access and at {@link
 * #poll()}, which a timer calls at {@link #nextInterruptNanos()}; {@link #setChangeListener} tells
 * the timer when the guest changed what that deadline depends on. A guest that never reads C gets
 * one edge, as on a PC (its IRQ 8 handler must read C).
 *
 * <p>Not modelled: daylight saving, other time bases than 32.768 kHz, the square-wave output. QEMU
 * sets PF only while PIE is set; here it is also visible to a guest that polls C, as on the chip.
 * Switching the DM or 24/12 format re-reads the time in the new format at once (the chip would keep
 * the bytes it has; software sets the format before setting the time).
 *
 * <p>The rest of the 128 bytes is plain storage, preset as QEMU's {@code pc_cmos_init} does from
 * the machine: 0x15-0x16 base memory in KiB (640 at most), 0x17-0x18 and 0x30-0x31 memory above 1
 * MiB in KiB (at most 0xffff), 0x34-0x35 memory above 16 MiB in 64 KiB units (at most 0xffff),
 * 0x5b-0x5d memory above 4 GiB in 64 KiB units, 0x5f the number of CPUs minus 1, 0x14 the equipment
 * byte (FPU and PS/2 mouse, 0x06). Thread-safe.
 */
public final class CmosRtc implements BusDevice {

  public static final int PIO_BASE = 0x70;
  public static final int SIZE = 2;
  public static final int INDEX = 0;
  public static final int DATA = 1;

  /** Bytes of CMOS RAM (clock registers included). */
  public static final int CMOS_SIZE = 128;

  public static final int SECONDS = 0x00;
  public static final int SECONDS_ALARM = 0x01;
  public static final int MINUTES = 0x02;
  public static final int MINUTES_ALARM = 0x03;
  public static final int HOURS = 0x04;
  public static final int HOURS_ALARM = 0x05;
  public static final int DAY_OF_WEEK = 0x06;
  public static final int DAY_OF_MONTH = 0x07;
  public static final int MONTH = 0x08;
  public static final int YEAR = 0x09;
  public static final int REG_A = 0x0a;
  public static final int REG_B = 0x0b;
  public static final int REG_C = 0x0c;
  public static final int REG_D = 0x0d;
  public static final int EQUIPMENT = 0x14;
  public static final int CENTURY = 0x32;

  public static final int A_UIP = 0x80;
  public static final int B_SET = 0x80;
  public static final int B_PIE = 0x40;
  public static final int B_AIE = 0x20;
  public static final int B_UIE = 0x10;
  public static final int C_IRQF = 0x80;
  public static final int C_PF = 0x40;
  public static final int C_AF = 0x20;
  public static final int C_UF = 0x10;

  /** The IRQ line of the RTC on a PC (the slave PIC's IR0). */
  public static final int IRQ = 8;

  public static final int B_BINARY = 0x04;
  public static final int B_24H = 0x02;
  public static final int D_VRT = 0x80;

  /** Register A after reset on a PC: 32.768 kHz time base, 1024 Hz periodic rate. */
  public static final int REG_A_DEFAULT = 0x26;

  /** Register B after reset on a PC: 24-hour, BCD. */
  public static final int REG_B_DEFAULT = B_24H;

  /** How long before the end of each second UIP is set (the datasheet's t_BUC). */
  static final long UIP_NANOS = 244_000;

  private static final long MIB = 1 << 20;
  private static final int PORT_READ_EMPTY = 0xff;

  private final Clock clock;
  private final byte[] cmos = new byte[CMOS_SIZE];
  // The clock's fields as the guest last saw or wrote them (binary, 24-hour, year split in two as
  // the registers are), valid at the whole second 'base'; they advance with the clock from there.
  private final int[] fields = new int[FIELD_COUNT];
  private long base;
  private boolean frozen; // SET: the fields stand still and take writes
  private int index;
  private boolean nmiDisabled;
  private boolean lastReadWasUip;
  private final IrqLine irq;
  private Runnable changeListener = () -> {};
  private int flags; // register C
  private boolean lineRaised;
  private long evaluatedTo; // nanoseconds since the epoch up to which the flags are up to date

  private static final int F_SECOND = 0;
  private static final int F_MINUTE = 1;
  private static final int F_HOUR = 2;
  private static final int F_DAY = 3;
  private static final int F_MONTH = 4;
  private static final int F_YEAR = 5;
  private static final int F_CENTURY = 6;
  private static final int FIELD_COUNT = 7;

  /**
   * @param clock the time source (UTC is what the guest sees)
   * @param ramBelow4g bytes of RAM below 4 GiB, from 0
   * @param ramAbove4g bytes of RAM from 4 GiB
   * @param cpus the number of CPUs, 1 to 256
   */
  public CmosRtc(Clock clock, long ramBelow4g, long ramAbove4g, int cpus) {
    this(clock, ramBelow4g, ramAbove4g, cpus, (line, level) -> {});
  }

  /**
   * @param irq where IRQ {@link #IRQ} goes
   */
  public CmosRtc(Clock clock, long ramBelow4g, long ramAbove4g, int cpus, IrqLine irq) {
    if (ramBelow4g < 0 || ramAbove4g < 0 || cpus < 1 || cpus > 256) {
      throw new IllegalArgumentException(
          "cannot create the CMOS: RAM sizes 0x%x and 0x%x and %d CPUs are not all valid"
              .formatted(ramBelow4g, ramAbove4g, cpus));
    }
    this.clock = clock;
    this.irq = irq;
    evaluatedTo = nanos(clock.instant());
    base = clock.instant().getEpochSecond();
    split(LocalDateTime.ofEpochSecond(base, 0, ZoneOffset.UTC));
    cmos[REG_A] = REG_A_DEFAULT;
    cmos[REG_B] = REG_B_DEFAULT;
    cmos[EQUIPMENT] = 0x06;
    put16(0x15, Math.min(ramBelow4g / 1024, 640));
    long extended = ramBelow4g > MIB ? Math.min((ramBelow4g - MIB) / 1024, 0xffff) : 0;
    put16(0x17, extended);
    put16(0x30, extended);
    put16(0x34, ramBelow4g > 16 * MIB ? Math.min((ramBelow4g - 16 * MIB) / 65536, 0xffff) : 0);
    long above = Math.min(ramAbove4g / 65536, 0xff_ffff);
    put16(0x5b, above);
    cmos[0x5d] = (byte) (above >>> 16);
    cmos[0x5f] = (byte) (cpus - 1);
  }

  /** Whether the guest's last write to port 0x70 had bit 7 (NMI disable) set. */
  public synchronized boolean nmiDisabled() {
    return nmiDisabled;
  }

  /** The time the guest reads now (UTC), an impossible date rolled over. */
  public synchronized LocalDateTime time() {
    catchUp();
    return normalized();
  }

  /**
   * Called after the guest changed something {@link #nextInterruptNanos()} depends on (register A,
   * B or C, the time): a timer waiting for the old deadline should look again. Called with this
   * device's lock held: it must not call back into the device.
   */
  public synchronized void setChangeListener(Runnable listener) {
    this.changeListener = listener;
  }

  /** Brings the flags up to the clock's present, raising IRQ 8 if that sets IRQF. */
  public synchronized void poll() {
    evaluate();
  }

  /** Register C as it stands, without the read's clearing (for tests and {@code --trace}). */
  public synchronized int flags() {
    evaluate();
    return flags;
  }

  /** Whether the IRQ line is raised. */
  public synchronized boolean irqRaised() {
    return lineRaised;
  }

  /**
   * When, in nanoseconds since the epoch on the device's clock, {@link #poll()} could next raise
   * the line: the next period (PIE), the next update (UIE, AIE), whichever comes first; {@link
   * Long#MAX_VALUE} if nothing can raise it (nothing enabled, or the line is raised already and
   * only a read of register C lowers it).
   */
  public synchronized long nextInterruptNanos() {
    evaluate();
    int b = cmos[REG_B];
    if (lineRaised || !dividerRunning()) {
      return Long.MAX_VALUE;
    }
    long next = Long.MAX_VALUE;
    long period = RtcTiming.periodTicks(cmos[REG_A]);
    if ((b & B_PIE) != 0 && period != 0) {
      next = RtcTiming.nextPeriodNanos(evaluatedTo, period);
    }
    if ((b & (B_UIE | B_AIE)) != 0 && !frozen) {
      next = Math.min(next, (Math.floorDiv(evaluatedTo, RtcTiming.NANOS) + 1) * RtcTiming.NANOS);
    }
    return next;
  }

  private boolean dividerRunning() {
    return (cmos[REG_A] & 0x60) != 0x60;
  }

  /** Sets the flags for what happened between {@link #evaluatedTo} and now; updates the line. */
  private void evaluate() {
    long now = nanos(clock.instant());
    if (now > evaluatedTo && dividerRunning()) {
      long period = RtcTiming.periodTicks(cmos[REG_A]);
      if (period != 0 && RtcTiming.periodsBetween(evaluatedTo, now, period)) {
        flags |= C_PF;
      }
      long from = Math.floorDiv(evaluatedTo, RtcTiming.NANOS);
      long to = Math.floorDiv(now, RtcTiming.NANOS);
      if (!frozen && to > from) {
        flags |= C_UF;
        if (alarmMatchedIn(from, to)) {
          flags |= C_AF;
        }
      }
    }
    evaluatedTo = Math.max(evaluatedTo, now);
    updateLine();
  }

  /** Whether the time at an update in (from, to] (whole seconds) matched the alarm. */
  private boolean alarmMatchedIn(long from, long to) {
    LocalDateTime atBase = normalized();
    // A day holds every time of day once: looking further back finds nothing new.
    for (long s = Math.max(from + 1, to - 86_400); s <= to; s++) {
      LocalDateTime t = atBase.plusSeconds(s - base);
      if (alarmMatches(SECONDS_ALARM, t.getSecond())
          && alarmMatches(MINUTES_ALARM, t.getMinute())
          && alarmMatches(HOURS_ALARM, t.getHour())) {
        return true;
      }
    }
    return false;
  }

  private boolean alarmMatches(int alarmReg, int binaryValue) {
    int alarm = cmos[alarmReg] & 0xff;
    return (alarm & 0xc0) == 0xc0 || alarm == format(alarmReg - 1, binaryValue);
  }

  private void updateLine() {
    int enabled = cmos[REG_B] & (B_PIE | B_AIE | B_UIE); // the same bit positions as PF, AF, UF
    boolean irqf = (flags & enabled) != 0;
    flags = irqf ? flags | C_IRQF : flags & ~C_IRQF;
    if (irqf != lineRaised) {
      lineRaised = irqf;
      irq.setIrq(IRQ, irqf);
    }
  }

  private static long nanos(java.time.Instant t) {
    return t.getEpochSecond() * RtcTiming.NANOS + t.getNano();
  }

  @Override
  public synchronized long read(long offset, int size) {
    evaluate();
    long v = 0;
    for (int i = size - 1; i >= 0; i--) {
      v = (v << 8) | readPort(offset + i);
    }
    return v;
  }

  @Override
  public synchronized void write(long offset, int size, long value) {
    evaluate();
    for (int i = 0; i < size; i++) {
      writePort(offset + i, (int) (value >>> (8 * i)) & 0xff);
    }
  }

  private int readPort(long port) {
    if (port != DATA) {
      return PORT_READ_EMPTY;
    }
    boolean uip = false;
    int v =
        switch (index) {
          case SECONDS, MINUTES, HOURS, DAY_OF_WEEK, DAY_OF_MONTH, MONTH, YEAR, CENTURY -> {
            catchUp();
            yield encode(index);
          }
          case REG_A -> {
            uip = updateInProgress();
            yield (cmos[REG_A] & 0x7f) | (uip ? A_UIP : 0);
          }
          case REG_C -> {
            int c = flags;
            flags = 0;
            updateLine();
            changeListener.run();
            yield c;
          }
          case REG_D -> D_VRT;
          default -> cmos[index] & 0xff;
        };
    lastReadWasUip = uip;
    return v;
  }

  private void writePort(long port, int v) {
    if (port == INDEX) {
      index = v & 0x7f;
      nmiDisabled = (v & 0x80) != 0;
      return;
    }
    if (port != DATA) {
      return;
    }
    switch (index) {
      case SECONDS, MINUTES, HOURS, DAY_OF_MONTH, MONTH, YEAR, CENTURY -> {
        catchUp();
        fields[field(index)] = decode(index, v);
        changeListener.run();
      }
      case DAY_OF_WEEK, REG_C, REG_D -> {}
      case REG_A -> {
        cmos[REG_A] = (byte) (v & 0x7f);
        changeListener.run();
      }
      case REG_B -> {
        writeRegB(v);
        updateLine(); // enabling a source whose flag is set raises the line at once
        changeListener.run();
      }
      default -> cmos[index] = (byte) v;
    }
  }

  private void writeRegB(int v) {
    boolean set = (v & B_SET) != 0;
    if (set) {
      v &= ~B_UIE; // the datasheet: setting SET clears UIE
      catchUp();
    } else if (frozen) {
      base = clock.instant().getEpochSecond(); // the clock starts again from the fields
    }
    frozen = set;
    cmos[REG_B] = (byte) v;
  }

  private boolean updateInProgress() {
    if (frozen || lastReadWasUip) {
      return false;
    }
    return clock.instant().getNano() >= 1_000_000_000L - UIP_NANOS;
  }

  /** Moves the fields on by the whole seconds the clock went since they were set. */
  private void catchUp() {
    if (frozen) {
      return;
    }
    long now = clock.instant().getEpochSecond();
    if (now != base) {
      split(normalized().plusSeconds(now - base));
      base = now;
    }
  }

  /** The fields as a date; out-of-range fields carry over (the chip leaves that undefined). */
  private LocalDateTime normalized() {
    return LocalDateTime.of(fields[F_CENTURY] * 100 + fields[F_YEAR], 1, 1, 0, 0)
        .plusMonths(fields[F_MONTH] - 1L)
        .plusDays(fields[F_DAY] - 1L)
        .plusHours(fields[F_HOUR])
        .plusMinutes(fields[F_MINUTE])
        .plusSeconds(fields[F_SECOND]);
  }

  private void split(LocalDateTime t) {
    fields[F_SECOND] = t.getSecond();
    fields[F_MINUTE] = t.getMinute();
    fields[F_HOUR] = t.getHour();
    fields[F_DAY] = t.getDayOfMonth();
    fields[F_MONTH] = t.getMonthValue();
    fields[F_YEAR] = t.getYear() % 100;
    fields[F_CENTURY] = t.getYear() / 100;
  }

  private static int field(int reg) {
    return switch (reg) {
      case SECONDS -> F_SECOND;
      case MINUTES -> F_MINUTE;
      case HOURS -> F_HOUR;
      case DAY_OF_MONTH -> F_DAY;
      case MONTH -> F_MONTH;
      case YEAR -> F_YEAR;
      default -> F_CENTURY;
    };
  }

  private int encode(int reg) {
    int v =
        reg == DAY_OF_WEEK
            ? normalized().getDayOfWeek().getValue() % 7 + 1 // java.time's Monday is 1
            : fields[field(reg)];
    return format(reg, v);
  }

  /** A binary, 24-hour value of register {@code reg} in the format register B selects. */
  private int format(int reg, int v) {
    int pm = 0;
    if (reg == HOURS && (cmos[REG_B] & B_24H) == 0) {
      pm = v >= 12 ? 0x80 : 0;
      v = v % 12 == 0 ? 12 : v % 12;
    }
    v &= 0xff;
    return ((cmos[REG_B] & B_BINARY) != 0 ? v : toBcd(v)) | pm;
  }

  private int decode(int reg, int raw) {
    int pm = 0;
    if (reg == HOURS && (cmos[REG_B] & B_24H) == 0) {
      pm = raw & 0x80;
      raw &= 0x7f;
    }
    int v = (cmos[REG_B] & B_BINARY) != 0 ? raw : fromBcd(raw);
    if (reg == HOURS && (cmos[REG_B] & B_24H) == 0) {
      v = v % 12 + (pm != 0 ? 12 : 0); // 12 AM is 0, 12 PM is 12
    }
    return v;
  }

  private static int toBcd(int v) {
    return (v / 10 % 16) << 4 | v % 10;
  }

  private static int fromBcd(int v) {
    return (v >> 4) * 10 + (v & 0x0f);
  }

  private void put16(int at, long v) {
    cmos[at] = (byte) v;
    cmos[at + 1] = (byte) (v >>> 8);
  }
}
