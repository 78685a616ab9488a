package dev.toykvm.vmm.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Firmware's PCI work done by the VMM for a {@code --kernel} machine. */
class PciFirmwareSetupTest {
  private final PciBus bus = new PciBus();
  private final IsaBridge isa = new IsaBridge();

  PciFirmwareSetupTest() {
    bus.add(1, 0, isa);
  }

  private PciDevice add(int slot, int pin, Bar... bars) {
    PciDevice d = new PciDevice("dev" + slot, PciDeviceTest.ID, false, bars, pin);
    bus.add(slot, 0, d);
    return d;
  }

  @Test
  void everyBarIsPlacedNaturallyAlignedLargestFirst() {
    PciDevice a =
        add(3, 1, Bar.memory64(0x4000, false), null, Bar.io(0x10), null, Bar.memory32(0x2000));
    PciDevice b = add(4, 1, Bar.memory32(0x10_0000), Bar.io(0x100), Bar.memory64(0x1000, true));
    List<PciFirmwareSetup.Placement> placed = PciFirmwareSetup.configure(bus, isa);

    assertEquals(
        List.of(
            "00:04.0 BAR0 MEMORY32 0xe0000000+0x100000",
            "00:03.0 BAR0 MEMORY64 0xe0100000+0x4000",
            "00:03.0 BAR4 MEMORY32 0xe0104000+0x2000",
            "00:04.0 BAR2 MEMORY64 0xe0106000+0x1000",
            "00:04.0 BAR1 IO 0xc000+0x100",
            "00:03.0 BAR2 IO 0xc100+0x10"),
        placed.stream().map(Object::toString).toList());
    assertEquals(0xe010_0004, a.readConfig(0x10, 4), "64-bit flag kept");
    assertEquals(0, a.readConfig(0x14, 4), "upper half 0");
    assertEquals(0xc101, a.readConfig(0x18, 4));
    assertEquals(0xe010_600c, b.readConfig(0x18, 4), "64-bit, prefetchable");
    assertEquals(new BarMapping(0, false, 0xe010_0000L, 0x4000), a.decoded(0));
    assertEquals(new BarMapping(2, true, 0xc100, 0x10), a.decoded(2));
    assertEquals(new BarMapping(1, true, 0xc000, 0x100), b.decoded(1));
    int enable = PciDevice.COMMAND_IO | PciDevice.COMMAND_MEMORY | PciDevice.COMMAND_BUS_MASTER;
    assertEquals(enable, a.readConfig(PciDevice.COMMAND, 2));
    assertEquals(enable, b.readConfig(PciDevice.COMMAND, 2));
  }

  @Test
  void pirqsGetSeaBiosDefaultsAndInterruptLinesFollowThem() {
    PciDevice d3 = add(3, 1); // PIRQD
    PciDevice d4 = add(4, 1); // PIRQA
    PciDevice d5 = add(5, 2); // PIRQC
    PciDevice none = add(6, 0);
    PciFirmwareSetup.configure(bus, isa);
    assertEquals(0x0b0b0a0a, isa.readConfig(IsaBridge.PIRQ_ROUTE, 4));
    assertEquals(11, d3.readConfig(PciDevice.INTERRUPT_LINE, 1));
    assertEquals(10, d4.readConfig(PciDevice.INTERRUPT_LINE, 1));
    assertEquals(11, d5.readConfig(PciDevice.INTERRUPT_LINE, 1));
    assertEquals(0, none.readConfig(PciDevice.INTERRUPT_LINE, 1), "no pin: left alone");
  }

  @Test
  void bridgesKeepTheirCommandRegister() {
    int before = isa.readConfig(PciDevice.COMMAND, 2);
    PciFirmwareSetup.configure(bus, isa);
    assertEquals(before, isa.readConfig(PciDevice.COMMAND, 2));
  }

  @Test
  void barsThatDoNotFitAreRefusedAndNothingChanges() {
    PciDevice big = add(3, 1, Bar.memory32(1L << 30)); // 1 GiB: 0xe0000000 + 1 GiB > 0xfec00000
    PciException e = assertThrows(PciException.class, () -> PciFirmwareSetup.configure(bus, isa));
    assertTrue(e.getMessage().startsWith("cannot place the PCI memory BARs"), e.getMessage());
    assertTrue(e.getMessage().contains("00:03.0 BAR0"), e.getMessage());
    assertEquals(0, big.readConfig(0x10, 4));
    assertEquals(0, big.readConfig(PciDevice.COMMAND, 2));
    assertEquals(0x80808080, isa.readConfig(IsaBridge.PIRQ_ROUTE, 4));
  }

  @Test
  void ioBarsEndBelowPort0x10000() {
    for (int slot = 3; slot < 20; slot++) {
      add(slot, 0, Bar.io(0x100), Bar.io(0x100), Bar.io(0x100), Bar.io(0x100));
    }
    // 68 x 256 ports = 0x4400 > 0x10000 - 0xc000
    PciException e = assertThrows(PciException.class, () -> PciFirmwareSetup.configure(bus, isa));
    assertTrue(e.getMessage().startsWith("cannot place the PCI I/O BARs"), e.getMessage());
  }
}
