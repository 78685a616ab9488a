package dev.toykvm.vmm.pci;

import dev.toykvm.devices.BusDevice;

/**
 * PCI configuration mechanism #1 (PCI Local Bus Specification 3.0, section 3.2.2.3.2) on the PC's
 * ports 0xcf8-0xcff, and the PIIX3's reset control register at 0xcf9 that shares them.
 *
 * <pre>
 * 0xcf8 (dword)  CONFIG_ADDRESS: bit 31 enable, bits 23:16 bus, 15:11 device, 10:8 function,
 *                7:2 register; read back as written
 * 0xcf9 (byte)   reset control (PIIX3): bits 1 and 3 kept; a write with bit 2 (reset CPU) set
 *                resets the machine
 * 0xcfc-0xcff    CONFIG_DATA: a byte, word or dword access at 0xcfc + n reaches register
 *                (CONFIG_ADDRESS & 0xfc) + n of the addressed function
 * </pre>
 *
 * <p>As on a PC, only a dword access at 0xcf8 is the address register; other accesses to
 * 0xcf8-0xcfb (but the reset control byte) read all-ones and are dropped. A data access while the
 * enable bit is clear, to a bus other than 0, to an absent function, or crossing 0xcff reads
 * all-ones and is dropped: what a PC's host bridge answers (a master abort). Such accesses are
 * counted ({@link #oddAccesses()}), never an error. Thread-safe.
 */
public final class PciConfigIo implements BusDevice {
  /** CONFIG_ADDRESS's port; the device covers {@link #SIZE} ports from here. */
  public static final int PORT = 0xcf8;

  public static final int SIZE = 8;

  /** CONFIG_DATA's offset from {@link #PORT}. */
  public static final int DATA = 4;

  /** The reset control register's offset (port 0xcf9). */
  public static final int RESET_CONTROL = 1;

  public static final int ENABLE = 0x8000_0000;
  private static final int RESET_CPU = 0x4;
  private static final int RESET_CONTROL_KEPT = 0xa;

  private final PciBus bus;
  private final Runnable reset;
  private int address;
  private int resetControl;
  private long oddAccesses;

  /**
   * @param reset called when the guest resets the machine through port 0xcf9
   */
  public PciConfigIo(PciBus bus, Runnable reset) {
    this.bus = bus;
    this.reset = reset;
  }

  /** Accesses that reached nothing (see the class comment). */
  public synchronized long oddAccesses() {
    return oddAccesses;
  }

  @Override
  public synchronized long read(long offset, int size) {
    if (offset == 0 && size == 4) {
      return address & 0xffff_ffffL;
    }
    if (offset == RESET_CONTROL && size == 1) {
      return resetControl;
    }
    PciFunction f = target(offset, size);
    if (f == null) {
      return BusDevice.allOnes(size);
    }
    return f.readConfig(register(offset), size) & BusDevice.allOnes(size);
  }

  @Override
  public synchronized void write(long offset, int size, long value) {
    if (offset == 0 && size == 4) {
      address = (int) value;
      return;
    }
    if (offset == RESET_CONTROL && size == 1) {
      resetControl = (int) value & RESET_CONTROL_KEPT;
      if ((value & RESET_CPU) != 0) {
        reset.run();
      }
      return;
    }
    PciFunction f = target(offset, size);
    if (f != null) {
      f.writeConfig(register(offset), size, (int) value);
    }
  }

  private int register(long offset) {
    return (address & 0xfc) + (int) (offset - DATA);
  }

  private PciFunction target(long offset, int size) {
    if (offset < DATA || offset - DATA + size > 4 || (address & ENABLE) == 0) {
      oddAccesses++;
      return null;
    }
    if ((address >>> 16 & 0xff) != 0) {
      return null;
    }
    return bus.function(address >>> 8 & 0xff);
  }
}
