package dev.toykvm.vmm.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.devices.BusDevice;
import dev.toykvm.devices.bus.Bus;
import org.junit.jupiter.api.Test;

/** An in-VMM device's BARs as bus ranges that follow the guest. */
class BusBarRoutesTest {
  private final Bus pio = new Bus("pio");
  private final Bus mmio = new Bus("mmio");

  private static BusDevice constant(long v) {
    return new BusDevice() {
      @Override
      public long read(long offset, int size) {
        return v + offset;
      }

      @Override
      public void write(long offset, int size, long value) {}
    };
  }

  @Test
  void barsMoveOnTheBusesAndAnOverlapDecodesNothing() {
    PciDevice d = PciDeviceTest.fake();
    d.listen(
        new BusBarRoutes("fake", pio, mmio, new BusDevice[] {constant(0x100), constant(0x200)}));
    pio.insert("other", 0xd000, 0x10, constant(0x300));
    d.writeConfig(0x10, 4, 0xc000);
    d.writeConfig(0x14, 4, 0xfebf_0000);
    d.writeConfig(PciDevice.COMMAND, 2, PciDevice.COMMAND_IO | PciDevice.COMMAND_MEMORY);
    assertEquals(0x104, pio.lookup(0xc004).orElseThrow().device().read(4, 1));
    assertEquals(0x200, mmio.lookup(0xfebf_0000L).orElseThrow().device().read(0, 4));
    d.writeConfig(0x10, 4, 0xd000); // over "other": refused, logged
    assertTrue(pio.lookup(0xc000).isEmpty());
    assertEquals("other", pio.lookup(0xd000).orElseThrow().name());
    d.writeConfig(0x10, 4, 0xe000);
    assertEquals("fake BAR0", pio.lookup(0xe000).orElseThrow().name());
    assertEquals(
        "other", pio.lookup(0xd000).orElseThrow().name(), "the refused place stays other's");
    d.writeConfig(PciDevice.COMMAND, 2, 0);
    assertTrue(pio.lookup(0xe000).isEmpty());
    assertTrue(mmio.lookup(0xfebf_0000L).isEmpty());
  }
}
