package dev.toykvm.vmm.pci;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What firmware does to PCI before an operating system runs, done by the VMM for {@code --kernel}
 * machines, which have no firmware (as kvmtool does): every BAR of bus 0 sized (through the
 * configuration registers, as firmware sizes them) and placed, decoding and bus mastering turned
 * on, the PIIX3's PIRQ routes programmed to SeaBIOS's defaults and each function's interrupt line
 * register set from its pin's route. {@code --bios} machines leave all of it to the firmware.
 *
 * <ul>
 *   <li>Memory BARs (32- and 64-bit alike, all below 4 GiB) from {@link #MEMORY_BASE} up, largest
 *       first, each naturally aligned, staying below {@link #MEMORY_LIMIT} (the I/O APIC);
 *   <li>I/O BARs from {@link #IO_BASE} up, largest first, naturally aligned, below 0x10000;
 *   <li>the command register of every function but the bridges (class 0x06, which keep their reset
 *       values) gets I/O, memory and bus master enable, after its BARs are placed;
 *   <li>PIRQRC[A:D] = {@link #PIRQ_IRQS} (IRQ 10, 10, 11, 11); the interrupt line of a function
 *       with a pin is its PIRQ's IRQ (PIRQ (slot + pin - 1) mod 4), or 0xff if that route is
 *       disabled.
 * </ul>
 */
public final class PciFirmwareSetup {
  private static final Logger log = LoggerFactory.getLogger(PciFirmwareSetup.class);

  /** Where memory BARs start (SeaBIOS's and kvmtool's 32-bit PCI window). */
  public static final long MEMORY_BASE = 0xe000_0000L;

  /** Where they must end: the I/O APIC at 0xfec00000. */
  public static final long MEMORY_LIMIT = 0xfec0_0000L;

  /** Where I/O BARs start (above the PC's legacy ports, as SeaBIOS). */
  public static final long IO_BASE = 0xc000;

  /** One past the last port. */
  public static final long IO_LIMIT = 0x1_0000;

  /** The ISA IRQs of PIRQA-D: SeaBIOS's defaults for the PIIX3. */
  public static final List<Integer> PIRQ_IRQS = List.of(10, 10, 11, 11);

  private static final int CLASS_BRIDGE = 0x06;
  private static final int ENABLE =
      PciDevice.COMMAND_IO | PciDevice.COMMAND_MEMORY | PciDevice.COMMAND_BUS_MASTER;

  private PciFirmwareSetup() {}

  /**
   * Where one BAR was placed.
   *
   * @param devfn the function (device << 3 | function)
   * @param bar the BAR's register number
   * @param kind what the BAR decodes
   */
  public record Placement(int devfn, int bar, Bar.Kind kind, long address, long size) {
    @Override
    public String toString() {
      return "00:%02x.%x BAR%d %s 0x%x+0x%x"
          .formatted(devfn >> 3, devfn & 7, bar, kind, address, size);
    }
  }

  /**
   * Sets up every function on {@code bus}.
   *
   * @param isa the PIIX3 whose PIRQ routes are programmed (on {@code bus} or not)
   * @return where each BAR went, in placement order
   * @throws PciException if the memory BARs do not fit below {@link #MEMORY_LIMIT} or the I/O BARs
   *     below 0x10000; nothing is changed then
   */
  public static List<Placement> configure(PciBus bus, IsaBridge isa) {
    List<Placement> sized = new ArrayList<>();
    for (int devfn = 0; devfn < PciBus.DEVICES * PciBus.FUNCTIONS; devfn++) {
      PciFunction f = bus.function(devfn);
      if (f != null && (f.readConfig(PciDevice.HEADER_TYPE, 1) & 0x7f) == 0) {
        size(devfn, f, sized);
      }
    }
    List<Placement> placed = new ArrayList<>();
    place(sized, false, MEMORY_BASE, MEMORY_LIMIT, "memory", placed);
    place(sized, true, IO_BASE, IO_LIMIT, "I/O", placed);

    for (int i = 0; i < 4; i++) {
      isa.writeConfig(IsaBridge.PIRQ_ROUTE + i, 1, PIRQ_IRQS.get(i));
    }
    for (Placement p : placed) {
      PciFunction f = bus.function(p.devfn());
      int at = PciDevice.BAR0 + 4 * p.bar();
      f.writeConfig(at, 4, (int) p.address());
      if (p.kind() == Bar.Kind.MEMORY64) {
        f.writeConfig(at + 4, 4, 0);
      }
      log.debug("pci: {}", p);
    }
    for (int devfn = 0; devfn < PciBus.DEVICES * PciBus.FUNCTIONS; devfn++) {
      PciFunction f = bus.function(devfn);
      if (f == null) {
        continue;
      }
      int pin = f.readConfig(PciDevice.INTERRUPT_PIN, 1);
      if (pin >= 1 && pin <= 4) {
        int irq = isa.pirqIrq(IsaBridge.pirqOf(devfn >> 3, pin)).orElse(0xff);
        f.writeConfig(PciDevice.INTERRUPT_LINE, 1, irq);
      }
      if (f.readConfig(PciDevice.CLASS_CODE + 2, 1) != CLASS_BRIDGE) {
        int command = f.readConfig(PciDevice.COMMAND, 2);
        f.writeConfig(PciDevice.COMMAND, 2, command | ENABLE);
      }
    }
    return List.copyOf(placed);
  }

  /**
   * Sizes the function's BARs as firmware does (all-ones written, the size mask read back, the
   * value restored), with decoding off meanwhile so no sizing pattern is ever decoded.
   */
  private static void size(int devfn, PciFunction f, List<Placement> into) {
    int command = f.readConfig(PciDevice.COMMAND, 2);
    f.writeConfig(
        PciDevice.COMMAND, 2, command & ~(PciDevice.COMMAND_IO | PciDevice.COMMAND_MEMORY));
    for (int bar = 0; bar < PciDevice.BARS; bar++) {
      int at = PciDevice.BAR0 + 4 * bar;
      int old = f.readConfig(at, 4);
      f.writeConfig(at, 4, -1);
      long mask = f.readConfig(at, 4) & 0xffff_ffffL;
      f.writeConfig(at, 4, old);
      if (mask == 0) {
        continue;
      }
      if ((mask & 1) != 0) {
        long size = (~(mask & ~0x3L) + 1) & 0xffff_ffffL;
        into.add(new Placement(devfn, bar, Bar.Kind.IO, 0, size));
        continue;
      }
      boolean is64 = (mask & 0x6) == 0x4;
      long full = mask & ~0xfL;
      if (is64 && bar + 1 < PciDevice.BARS) {
        int oldHigh = f.readConfig(at + 4, 4);
        f.writeConfig(at + 4, 4, -1);
        full |= (f.readConfig(at + 4, 4) & 0xffff_ffffL) << 32;
        f.writeConfig(at + 4, 4, oldHigh);
      } else {
        full |= 0xffff_ffff_0000_0000L;
      }
      long size = ~full + 1;
      into.add(new Placement(devfn, bar, is64 ? Bar.Kind.MEMORY64 : Bar.Kind.MEMORY32, 0, size));
      if (is64) {
        bar++;
      }
    }
    f.writeConfig(PciDevice.COMMAND, 2, command);
  }

  /** Places the I/O or the memory BARs of {@code sized}, largest first, naturally aligned. */
  private static void place(
      List<Placement> sized, boolean io, long base, long limit, String what, List<Placement> into) {
    List<Placement> bars =
        sized.stream()
            .filter(p -> (p.kind() == Bar.Kind.IO) == io)
            .sorted(Comparator.comparingLong(Placement::size).reversed())
            .toList();
    long next = base;
    for (Placement p : bars) {
      long at = (next + p.size() - 1) & -p.size();
      if (p.size() <= 0 || at + p.size() > limit) {
        throw new PciException(
            "cannot place the PCI %s BARs in 0x%x-0x%x: %s does not fit (%d %s BARs, 0x%x bytes in all)"
                .formatted(
                    what,
                    base,
                    limit - 1,
                    new Placement(p.devfn(), p.bar(), p.kind(), 0, p.size()),
                    bars.size(),
                    what,
                    bars.stream().mapToLong(Placement::size).sum()));
      }
      into.add(new Placement(p.devfn(), p.bar(), p.kind(), at, p.size()));
      next = at + p.size();
    }
  }
}
