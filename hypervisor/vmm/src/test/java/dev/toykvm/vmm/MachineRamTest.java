package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.devices.GuestRam;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

class MachineRamTest {
  private static final long G = 1L << 30;

  @Test
  void upTo3GiBTheRamIsTwoSlotsAsBefore() {
    assertEquals(
        List.of(
            new MachineRam.Slot(MachineLayout.SLOT_LOW_RAM, 0, 0xa0000),
            new MachineRam.Slot(MachineLayout.SLOT_HIGH_RAM, 0x100000, 3 * G - 0x100000)),
        MachineRam.slots(3 * G));
    assertEquals(2, MachineRam.slots(16L << 20).size());
  }

  @Test
  void above3GiBTheRestIsASlotAt4GiB() {
    assertEquals(
        List.of(
            new MachineRam.Slot(MachineLayout.SLOT_LOW_RAM, 0, 0xa0000),
            new MachineRam.Slot(MachineLayout.SLOT_HIGH_RAM, 0x100000, 3 * G - 0x100000),
            new MachineRam.Slot(MachineLayout.SLOT_RAM_ABOVE_4G, 4 * G, 4096)),
        MachineRam.slots(3 * G + 4096));
    assertEquals(
        new MachineRam.Slot(MachineLayout.SLOT_RAM_ABOVE_4G, 4 * G, 29 * G),
        MachineRam.slots(MachineLayout.MAX_MEMORY).get(2));
  }

  @Test
  void aDeviceDoingDmaSeesTheSameRangesAtFileOffsetEqualToAddress() {
    assertEquals(
        List.of(
            new GuestRam.Range(0, 0xa0000, 0),
            new GuestRam.Range(0x100000, 3 * G - 0x100000, 0x100000),
            new GuestRam.Range(4 * G, 2 * G, 4 * G)),
        MachineRam.dmaLayout(5 * G));
    assertEquals(
        "0x0:0xa0000:0x0+0x100000:0xbff00000:0x100000+0x100000000:0x80000000:0x100000000",
        GuestRam.formatLayout(MachineRam.dmaLayout(5 * G)));
  }

  @Test
  void theMemoryFileReachesTheTopOfRamAndStaysSparse() throws Exception {
    try (GuestMemoryFile ram = MachineRam.create(5 * G)) {
      assertEquals(6 * G, ram.size());
      // the last byte of RAM through a device's view of the same file
      try (GuestRam dma = GuestRam.over(ram.segment(), MachineRam.dmaLayout(5 * G))) {
        dma.write(6 * G - 1, new byte[] {0x5a});
        assertEquals(0x5a, ram.segment().get(ValueLayout.JAVA_BYTE, 6 * G - 1));
        assertEquals(false, dma.write(6 * G, new byte[] {1}), "past the end of RAM");
        assertEquals(false, dma.write(3 * G, new byte[] {1}), "in the PCI hole");
        assertEquals(false, dma.write(6 * G - 1, new byte[] {1, 2}), "straddling the end");
      }
    }
  }
}
