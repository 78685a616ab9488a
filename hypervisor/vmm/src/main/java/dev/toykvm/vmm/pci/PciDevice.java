package dev.toykvm.vmm.pci;

import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PCI function with a type 0 configuration header, modelled from the PCI Local Bus Specification
 * 3.0 (chapter 6): identity, command and status, BARs, interrupt pin and line, and a capabilities
 * list. Configuration space lives here, in the VMM; accesses to the BARs never come here: a {@link
 * BarListener} is told where each BAR is decoded and routes it (an ioregion, a bus range).
 *
 * <pre>
 * 0x00 vendor       0x02 device         0x04 command (I/O, memory, bus master, parity, SERR,
 * 0x06 status (capabilities list bit; error bits write-1-to-clear)    INTx disable: writable)
 * 0x08 revision     0x09 class code     0x0c cache line size, 0x0d latency timer (writable)
 * 0x0e header type (0, bit 7 multi-function)
 * 0x10-0x24 BARs    0x2c subsystem vendor, 0x2e subsystem   0x30 expansion ROM (none: reads 0)
 * 0x34 capabilities pointer   0x3c interrupt line (writable)   0x3d interrupt pin (1 = INTA#)
 * 0x40-0xff capabilities, from 0x40 up; the rest reads 0 and ignores writes
 * </pre>
 *
 * <p>BARs: the address bits above the size are writable, the rest read as the BAR's flags, so
 * writing all-ones and reading back gives the size mask, as PCI's sizing protocol expects; a 64-bit
 * BAR's second register is wholly writable (the size's upper half masked). An unused register reads
 * 0 and ignores writes. A BAR is decoded (and its listener told) while the command register's I/O
 * or memory enable bit is set, its address is not 0, and it fits: an I/O BAR below port 0x10000, a
 * 32-bit memory BAR below 4 GiB (so the sizing pattern all-ones is never decoded), a 64-bit one
 * below the CPU's 36-bit physical limit.
 *
 * <p>Thread-safe: configuration accesses are serialised on the device.
 */
public class PciDevice implements PciFunction {
  private static final Logger log = LoggerFactory.getLogger(PciDevice.class);

  public static final int VENDOR = 0x00;
  public static final int DEVICE = 0x02;
  public static final int COMMAND = 0x04;
  public static final int STATUS = 0x06;
  public static final int REVISION = 0x08;
  public static final int CLASS_CODE = 0x09;
  public static final int CACHE_LINE_SIZE = 0x0c;
  public static final int LATENCY_TIMER = 0x0d;
  public static final int HEADER_TYPE = 0x0e;
  public static final int BAR0 = 0x10;
  public static final int SUBSYSTEM_VENDOR = 0x2c;
  public static final int SUBSYSTEM = 0x2e;
  public static final int CAPABILITIES = 0x34;
  public static final int INTERRUPT_LINE = 0x3c;
  public static final int INTERRUPT_PIN = 0x3d;

  public static final int COMMAND_IO = 0x1;
  public static final int COMMAND_MEMORY = 0x2;
  public static final int COMMAND_BUS_MASTER = 0x4;
  public static final int STATUS_CAPABILITIES = 0x10;

  /** Number of BAR registers in a type 0 header. */
  public static final int BARS = 6;

  private static final int COMMAND_WRITABLE = 0x0547;
  private static final int STATUS_CLEAR_ON_ONE = 0xf900;
  private static final int FIRST_CAPABILITY = 0x40;
  private static final long IO_LIMIT = 0x1_0000L;
  private static final long MEMORY32_LIMIT = 1L << 32;
  private static final long PHYS_LIMIT = 1L << 36;

  private final String name;
  private final ConfigSpace config = new ConfigSpace();
  private final Bar[] bars = new Bar[BARS];
  private final BarMapping[] decoded = new BarMapping[BARS];
  private int lastCapability;
  private int nextCapability = FIRST_CAPABILITY;
  private BarListener listener = BarListener.NONE;

  /**
   * @param name the function's name in messages
   * @param multiFunction the header type's multi-function bit (set on function 0 of a device that
   *     has others)
   * @param bars BAR registers 0-5: a {@link Bar} or {@code null} for an unused register; a 64-bit
   *     BAR's next register must be {@code null} (it is the upper half)
   * @param interruptPin 0 for none, 1-4 for INTA#-INTD#
   * @throws IllegalArgumentException if the BARs do not fit the six registers, or the pin is not
   *     0-4
   */
  public PciDevice(String name, PciId id, boolean multiFunction, Bar[] bars, int interruptPin) {
    this.name = name;
    if (bars.length > BARS) {
      throw new IllegalArgumentException(
          "cannot create PCI function " + name + ": " + bars.length + " BARs, at most 6");
    }
    if (interruptPin < 0 || interruptPin > 4) {
      throw new IllegalArgumentException(
          "cannot create PCI function " + name + ": interrupt pin " + interruptPin + " is not 0-4");
    }
    config.set16(VENDOR, id.vendor());
    config.set16(DEVICE, id.device());
    config.set8(REVISION, id.revision());
    config.set8(CLASS_CODE, id.classCode());
    config.set16(CLASS_CODE + 1, id.classCode() >>> 8);
    config.set8(HEADER_TYPE, multiFunction ? 0x80 : 0);
    config.set16(SUBSYSTEM_VENDOR, id.subsystemVendor());
    config.set16(SUBSYSTEM, id.subsystem());
    config.set8(INTERRUPT_PIN, interruptPin);
    config.setWritable(COMMAND, 2, COMMAND_WRITABLE);
    config.setClearOnOne(STATUS, 2, STATUS_CLEAR_ON_ONE);
    config.setWritable(CACHE_LINE_SIZE, 1, 0xff);
    config.setWritable(LATENCY_TIMER, 1, 0xff);
    config.setWritable(INTERRUPT_LINE, 1, 0xff);
    for (int i = 0; i < bars.length; i++) {
      Bar bar = bars[i];
      if (bar == null) {
        continue;
      }
      if (i + bar.kind().registers() > BARS
          || (bar.kind() == Bar.Kind.MEMORY64 && bars.length > i + 1 && bars[i + 1] != null)) {
        throw new IllegalArgumentException(
            "cannot create PCI function "
                + name
                + ": the 64-bit BAR"
                + i
                + " needs register "
                + (i + 1)
                + " for its upper half");
      }
      this.bars[i] = bar;
      int at = BAR0 + 4 * i;
      config.set32(at, bar.flags());
      config.setWritable(
          at, 4, (int) ~(bar.size() - 1) & (bar.kind() == Bar.Kind.IO ? ~0x3 : ~0xf));
      if (bar.kind() == Bar.Kind.MEMORY64) {
        config.setWritable(at + 4, 4, (int) (~(bar.size() - 1) >>> 32));
        i++;
      }
    }
  }

  /** The function's name in messages. */
  public String name() {
    return name;
  }

  /** Tells {@code listener} from now on where the BARs are decoded (one listener per function). */
  public synchronized void listen(BarListener listener) {
    this.listener = listener;
  }

  /**
   * Adds a capability to the list: {@code length} bytes from the next free dword from 0x40, its id
   * and next pointer set; the caller fills the rest through {@link #config()}.
   *
   * @return its offset
   * @throws IllegalArgumentException if it does not fit in the 256 bytes
   */
  protected final synchronized int addCapability(int id, int length) {
    int at = nextCapability;
    if (length < 2 || at + length > ConfigSpace.SIZE) {
      throw new IllegalArgumentException(
          "cannot add capability 0x%x of %d bytes to %s: no room".formatted(id, length, name));
    }
    config.set8(at, id);
    config.set8(at + 1, 0);
    if (lastCapability == 0) {
      config.set8(CAPABILITIES, at);
      config.set16(STATUS, config.get16(STATUS) | STATUS_CAPABILITIES);
    } else {
      config.set8(lastCapability + 1, at);
    }
    lastCapability = at;
    nextCapability = at + (length + 3 & ~3);
    return at;
  }

  /** The configuration space, for the function's own model (values and writable masks). */
  protected final ConfigSpace config() {
    return config;
  }

  @Override
  public synchronized int readConfig(int offset, int size) {
    return config.read(offset, size);
  }

  @Override
  public synchronized void writeConfig(int offset, int size, int value) {
    config.write(offset, size, value);
    if (offset < BAR0 + 4 * BARS && offset + size > COMMAND) {
      updateBars();
    }
    configWritten(offset, size);
  }

  /** Called after every configuration write, for functions that act on their own registers. */
  protected void configWritten(int offset, int size) {}

  /** Where BAR {@code bar} is decoded now, or {@code null}. */
  public synchronized BarMapping decoded(int bar) {
    return decoded[bar];
  }

  private void updateBars() {
    for (int i = 0; i < BARS; i++) {
      BarMapping now = decode(i);
      BarMapping before = decoded[i];
      if (java.util.Objects.equals(now, before)) {
        continue;
      }
      decoded[i] = now;
      log.debug("pci: {} {} -> {}", name, before == null ? "BAR" + i + " off" : before, now);
      if (before != null) {
        listener.unmapped(before);
      }
      if (now != null) {
        listener.mapped(now);
      }
    }
  }

  private BarMapping decode(int i) {
    Bar bar = bars[i];
    if (bar == null) {
      return null;
    }
    int command = config.get16(COMMAND);
    long low = config.get32(BAR0 + 4 * i) & 0xffff_ffffL;
    long address;
    long limit;
    if (bar.kind() == Bar.Kind.IO) {
      if ((command & COMMAND_IO) == 0) {
        return null;
      }
      address = low & ~0x3L;
      limit = IO_LIMIT;
    } else {
      if ((command & COMMAND_MEMORY) == 0) {
        return null;
      }
      address = low & ~0xfL;
      limit = MEMORY32_LIMIT - 1;
      if (bar.kind() == Bar.Kind.MEMORY64) {
        address |= (config.get32(BAR0 + 4 * i + 4) & 0xffff_ffffL) << 32;
        limit = PHYS_LIMIT;
      }
    }
    if (address == 0 || address < 0 || address > limit - bar.size()) {
      return null;
    }
    return new BarMapping(i, bar.kind() == Bar.Kind.IO, address, bar.size());
  }

  /** The BARs as given at construction (upper halves of 64-bit BARs are {@code null}). */
  public Bar[] bars() {
    return Arrays.copyOf(bars, BARS);
  }
}
