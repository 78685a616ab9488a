package dev.toykvm.vmm;

import dev.toykvm.devices.BusDevice;
import dev.toykvm.devices.GuestMemory;
import dev.toykvm.devices.IrqLine;
import dev.toykvm.devices.bus.Bus;
import dev.toykvm.devices.pc.CmosRtc;
import dev.toykvm.devices.pc.DebugConsole;
import dev.toykvm.devices.pc.FwCfg;
import dev.toykvm.devices.pc.I8042;
import dev.toykvm.devices.pc.SystemControlPort;
import dev.toykvm.vmm.boot.E820Entry;
import dev.toykvm.vmm.boot.RamSplit;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The PC platform devices of a machine booted with {@code --kernel}, named in one place with their
 * routes. All of these live in the VMM ({@code route=in-process}); pc-testdev is a device process
 * over ioregionfd ({@link #PC_TESTDEV_NAME}, added to the machine's device list by {@link
 * MachineConfig}).
 *
 * <pre>
 * port             device                        route
 * 0x060, 0x064     i8042 (reset line only)       in-process
 * 0x070 - 0x071    CMOS/RTC                      in-process
 * 0x092            system control port A         in-process
 * 0x0e0 - 0x0eb    pc-testdev                    ioregionfd (own process), --kernel only
 * 0x0e9            debug console again           in-process, when no device claims 0xe9
 * 0x402            debug console                 in-process
 * 0x0f4            debug exit (raw or qemu)      in-process (Machine)
 * 0x3f8 - 0x3ff    COM1 16550                    --com1-route (ioregionfd by default)
 * 0x510 - 0x51b    fw_cfg (with DMA at 0x514)    in-process
 * </pre>
 *
 * <p>Port 0xe9 (the Bochs debug port, QEMU's {@code -debugcon}) is the debug console only when no
 * device claims it: pc-testdev's byte scratch register covers 0xe8-0xeb (QEMU's {@code
 * hw/misc/pc-testdev.c} maps "pc-testdev-ioport-byte", 4 ports, at 0xe8), so a {@code --kernel}
 * machine, which has pc-testdev, gives 0xe9 to it; a {@code --bios} machine has no pc-testdev
 * unless asked, and both ports print. SeaBIOS and OVMF log to 0x402.
 *
 * <p>The CMOS/RTC raises IRQ 8 through the given {@link IrqLine}, on time thanks to an {@link
 * RtcTimer} thread, which {@link #close()} stops.
 */
final class PcPlatform implements AutoCloseable {
  /** The name of the pc-testdev device in the machine's device list. */
  static final String PC_TESTDEV_NAME = "pc-testdev";

  private final AtomicBoolean resetRequested = new AtomicBoolean();
  private final FwCfg fwCfg;
  private final RamAccess ramAccess;
  private final DebugConsole debugConsole;
  private final long memory;
  private final boolean debugconAtE9;
  private final IrqLine irqs;
  private RtcTimer rtcTimer;
  private final int cpus;

  /**
   * @param ram guest RAM, file offset = guest-physical address
   * @param memoryMap the machine's e820 map (fw_cfg's {@code etc/e820})
   * @param memory the RAM in total (fw_cfg's RAM size, as QEMU's {@code ram_size}); the CMOS gets
   *     its parts below and above 4 GiB
   * @param debugcon where the debug console's bytes go
   * @param debugconAtE9 whether the debug console also takes port 0xe9
   * @param irqs the ISA interrupt lines (the VM's irqchip)
   * @param cpus the number of CPUs (fw_cfg's 0x05 and 0x0f, CMOS 0x5f)
   */
  PcPlatform(
      MemorySegment ram,
      List<E820Entry> memoryMap,
      long memory,
      OutputStream debugcon,
      boolean debugconAtE9,
      IrqLine irqs,
      int cpus) {
    this.cpus = cpus;
    this.ramAccess = new RamAccess(ram, memoryMap);
    this.fwCfg = new FwCfg(ramAccess, memory, cpus);
    fwCfg.addE820(
        memoryMap.stream()
            .map(e -> new dev.toykvm.devices.pc.E820Entry(e.base(), e.length(), e.type()))
            .toList());
    this.debugConsole = new DebugConsole(debugcon);
    this.memory = memory;
    this.debugconAtE9 = debugconAtE9;
    this.irqs = irqs;
  }

  /**
   * Hands the firmware ACPI tables for a machine with the in-kernel irqchip (fw_cfg's {@code
   * etc/table-loader} and its files, as QEMU does): the MADT lists the vCPUs and the I/O APIC.
   */
  void acpi() {
    dev.toykvm.vmm.boot.AcpiTables.Files f =
        dev.toykvm.vmm.boot.AcpiTables.pc(
            cpus, PcInterrupts.LAPIC_BASE, MpTableSetup.IOAPIC_ID, PcInterrupts.IOAPIC_BASE);
    fwCfg.addFile(dev.toykvm.vmm.boot.AcpiTables.RSDP_FILE, f.rsdp());
    fwCfg.addFile(dev.toykvm.vmm.boot.AcpiTables.TABLES_FILE, f.tables());
    fwCfg.addFile(dev.toykvm.vmm.boot.AcpiTables.LOADER_FILE, f.loader());
  }

  /** Puts every platform device on the PIO bus and reserves its range. */
  void attach(Bus pio, DeviceManager devices) {
    Clock clock = Clock.systemUTC();
    I8042 i8042 = new I8042(() -> resetRequested.set(true));
    put(pio, devices, "i8042 data", I8042.DATA_PORT, I8042.SIZE, i8042.dataPort());
    put(pio, devices, "i8042 command", I8042.COMMAND_PORT, I8042.SIZE, i8042);
    RamSplit split = RamSplit.of(memory);
    CmosRtc cmos = new CmosRtc(clock, split.below4g(), split.above4g(), cpus, irqs);
    put(pio, devices, "cmos", CmosRtc.PIO_BASE, CmosRtc.SIZE, cmos);
    put(
        pio,
        devices,
        "port 0x92",
        SystemControlPort.PORT,
        SystemControlPort.SIZE,
        new SystemControlPort(() -> resetRequested.set(true)));
    put(
        pio,
        devices,
        "debugcon 0x402",
        DebugConsole.FIRMWARE_LOG_PORT,
        DebugConsole.SIZE,
        debugConsole);
    if (debugconAtE9) {
      put(pio, devices, "debugcon 0xe9", DebugConsole.BOCHS_PORT, DebugConsole.SIZE, debugConsole);
    }
    put(pio, devices, "fw_cfg", FwCfg.PIO_BASE, FwCfg.SIZE, fwCfg);
    rtcTimer = new RtcTimer(cmos, clock);
  }

  /** Stops the RTC's timer. */
  @Override
  public void close() {
    if (rtcTimer != null) {
      rtcTimer.close();
    }
  }

  private static void put(
      Bus pio, DeviceManager devices, String name, int port, int size, BusDevice device) {
    if (device == null) {
      return;
    }
    devices.reserve("the platform's " + name, true, port, size);
    pio.insert(name, port, size, device);
  }

  /** The guest asked for a reset elsewhere (the PIIX3's reset control register, 0xcf9). */
  void requestReset() {
    resetRequested.set(true);
  }

  /** Whether the guest asked for a reset (i8042 0xfe, port 0x92 bit 0) since the VM started. */
  boolean resetRequested() {
    return resetRequested.get();
  }

  /**
   * Shows fw_cfg's DMA the shadow RAM of 0xc0000-0xfffff as the PAM registers show it to the CPU
   * (set once the chipset exists): firmware allocates ACPI's RSDP there (FSEG) and has fw_cfg copy
   * it in, as SeaBIOS does on QEMU.
   */
  void shadow(dev.toykvm.vmm.pci.Pam pam) {
    ramAccess.pam = pam;
  }

  /**
   * Guest RAM for fw_cfg's DMA: the e820 RAM ranges, and the PAM window's shadow RAM where the PAM
   * registers let the CPU read it (for a DMA read) or write it (for a DMA write).
   */
  private static final class RamAccess implements GuestMemory {
    /** A PAM mode's bits: RE (reads go to the shadow RAM) and WE (writes do). */
    private static final int PAM_READ = 1;

    private static final int PAM_WRITE = 2;

    private final MemorySegment ram;
    private final List<E820Entry> map;
    private volatile dev.toykvm.vmm.pci.Pam pam;

    RamAccess(MemorySegment ram, List<E820Entry> map) {
      this.ram = ram;
      this.map = map;
    }

    @Override
    public boolean read(long addr, byte[] dst) {
      if (!inRam(addr, dst.length, PAM_READ)) {
        return false;
      }
      MemorySegment.copy(ram, ValueLayout.JAVA_BYTE, addr, dst, 0, dst.length);
      return true;
    }

    @Override
    public boolean write(long addr, byte[] src) {
      if (!inRam(addr, src.length, PAM_WRITE)) {
        return false;
      }
      MemorySegment.copy(src, 0, ram, ValueLayout.JAVA_BYTE, addr, src.length);
      return true;
    }

    /** Whether {@code [addr, +length)} is RAM, or shadow RAM whose PAM mode has {@code enable}. */
    private boolean inRam(long addr, int length, int enable) {
      if (addr < 0 || addr + length > ram.byteSize()) {
        return false;
      }
      if (dev.toykvm.vmm.boot.PcMemoryMap.isRam(map, addr, addr + length)) {
        return true;
      }
      dev.toykvm.vmm.pci.Pam p = pam;
      long end = addr + length;
      if (p == null
          || length == 0
          || addr < dev.toykvm.vmm.pci.Pam.BASE
          || end > dev.toykvm.vmm.pci.Pam.BASE + dev.toykvm.vmm.pci.Pam.SIZE) {
        return false;
      }
      for (long a = addr; a < end; a = (a | 0x3fff) + 1) { // every 16 KiB piece it touches
        if ((p.mode(a) & enable) == 0) {
          return false;
        }
      }
      return true;
    }
  }
}
