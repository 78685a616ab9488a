package dev.toykvm.vmm.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The type 0 header with a fake device: BAR0 I/O 32 bytes, BAR1 32-bit 4 KiB, BAR2-3 64-bit. */
class PciDeviceTest {
  static final PciId ID = new PciId(0x1b36, 0x0005, 0x01, 0x00ff_00, 0x1af4, 0x1100);

  static PciDevice fake() {
    return new PciDevice(
        "fake",
        ID,
        false,
        new Bar[] {Bar.io(32), Bar.memory32(0x1000), Bar.memory64(0x4000, true), null},
        1);
  }

  private PciDevice d;
  private final List<String> events = new ArrayList<>();

  @BeforeEach
  void setUp() {
    d = fake();
    d.listen(
        new BarListener() {
          @Override
          public void mapped(BarMapping m) {
            events.add("map " + m);
          }

          @Override
          public void unmapped(BarMapping m) {
            events.add("unmap " + m);
          }
        });
  }

  @Test
  void theHeaderSaysWhatTheFunctionIs() {
    assertEquals(0x0005_1b36, d.readConfig(0x00, 4));
    assertEquals(0x00ff_0001, d.readConfig(0x08, 4), "class 0x00ff00, revision 1");
    assertEquals(0, d.readConfig(0x0e, 1), "header type 0");
    assertEquals(0x1100_1af4, d.readConfig(0x2c, 4));
    assertEquals(0x01, d.readConfig(0x3d, 1), "INTA#");
    assertEquals(0, d.readConfig(0x30, 4), "no expansion ROM");
    d.writeConfig(0x00, 4, 0);
    d.writeConfig(0x08, 4, 0);
    d.writeConfig(0x3d, 1, 3);
    assertEquals(0x0005_1b36, d.readConfig(0x00, 4), "ids are read-only");
    assertEquals(0x00ff_0001, d.readConfig(0x08, 4));
    assertEquals(0x01, d.readConfig(0x3d, 1));
    d.writeConfig(0x3c, 1, 11);
    assertEquals(11, d.readConfig(0x3c, 1), "the interrupt line is the firmware's to write");
  }

  @Test
  void commandKeepsOnlyItsDefinedBits() {
    d.writeConfig(PciDevice.COMMAND, 2, 0xffff);
    assertEquals(0x0547, d.readConfig(PciDevice.COMMAND, 2));
  }

  @Test
  void writingAllOnesReadsBackTheSizeMaskAndTheFlags() {
    for (int bar = 0; bar < 6; bar++) {
      d.writeConfig(0x10 + 4 * bar, 4, 0xffff_ffff);
    }
    assertEquals(0xffff_ffe1, d.readConfig(0x10, 4), "I/O, 32 bytes");
    assertEquals(0xffff_f000, d.readConfig(0x14, 4), "32-bit memory, 4 KiB");
    assertEquals(0xffff_c00c, d.readConfig(0x18, 4), "64-bit prefetchable, 16 KiB");
    assertEquals(0xffff_ffff, d.readConfig(0x1c, 4), "its upper half");
    assertEquals(0, d.readConfig(0x20, 4), "unused");
    assertEquals(0, d.readConfig(0x24, 4), "unused");
    assertEquals(List.of(), events, "decoding is off: sizing maps nothing");
  }

  @Test
  void aBigSixtyFourBitBarMasksItsUpperHalfToo() {
    PciDevice big = new PciDevice("big", ID, false, new Bar[] {Bar.memory64(1L << 33, false)}, 0);
    big.writeConfig(0x10, 4, 0xffff_ffff);
    big.writeConfig(0x14, 4, 0xffff_ffff);
    assertEquals(0x0000_0004, big.readConfig(0x10, 4));
    assertEquals(0xffff_fffe, big.readConfig(0x14, 4));
  }

  @Test
  void barsAreDecodedWhileEnabledAndFollowMoves() {
    d.writeConfig(0x10, 4, 0xc001);
    d.writeConfig(0x14, 4, 0xfebf_0000);
    d.writeConfig(0x18, 4, 0x0000_8000);
    d.writeConfig(0x1c, 4, 0x8);
    assertEquals(List.of(), events);
    d.writeConfig(PciDevice.COMMAND, 2, PciDevice.COMMAND_IO);
    assertEquals(List.of("map BAR0 io 0xc000+0x20"), events);
    d.writeConfig(PciDevice.COMMAND, 2, PciDevice.COMMAND_IO | PciDevice.COMMAND_MEMORY);
    assertEquals(
        List.of(
            "map BAR0 io 0xc000+0x20",
            "map BAR1 mem 0xfebf0000+0x1000",
            "map BAR2 mem 0x800008000+0x4000"),
        events);
    events.clear();
    d.writeConfig(0x10, 4, 0xd000);
    assertEquals(List.of("unmap BAR0 io 0xc000+0x20", "map BAR0 io 0xd000+0x20"), events);
    events.clear();
    d.writeConfig(0x1c, 4, 0);
    assertEquals(
        List.of("unmap BAR2 mem 0x800008000+0x4000", "map BAR2 mem 0x8000+0x4000"),
        events,
        "each half of a 64-bit BAR moves it");
    events.clear();
    d.writeConfig(PciDevice.COMMAND, 2, PciDevice.COMMAND_MEMORY);
    assertEquals(List.of("unmap BAR0 io 0xd000+0x20"), events);
    assertNull(d.decoded(0));
    events.clear();
    d.writeConfig(PciDevice.COMMAND, 2, 0);
    assertEquals(
        List.of("unmap BAR1 mem 0xfebf0000+0x1000", "unmap BAR2 mem 0x8000+0x4000"), events);
  }

  @Test
  void sizingWhileEnabledUnmapsTheBarUntilItIsPlacedAgain() {
    d.writeConfig(0x14, 4, 0xfebf_0000);
    d.writeConfig(PciDevice.COMMAND, 2, PciDevice.COMMAND_MEMORY);
    events.clear();
    d.writeConfig(0x14, 4, 0xffff_ffff);
    assertEquals(List.of("unmap BAR1 mem 0xfebf0000+0x1000"), events, "all-ones is not decoded");
    d.writeConfig(0x14, 4, 0xfebf_0000);
    assertEquals("map BAR1 mem 0xfebf0000+0x1000", events.get(1));
  }

  @Test
  void anAddressOfZeroOrPastTheLimitsIsNotDecoded() {
    d.writeConfig(0x18, 4, 0);
    d.writeConfig(0x1c, 4, 0x10); // 64 GiB: past the 36-bit physical limit
    d.writeConfig(PciDevice.COMMAND, 2, PciDevice.COMMAND_IO | PciDevice.COMMAND_MEMORY);
    assertEquals(List.of(), events, "BAR0 and BAR1 at 0, BAR2 past 2^36");
  }

  @Test
  void capabilitiesAreAListWithMsixInABar() {
    int at = MsixCapability.add(d, 8, 1, 0x0, 1, 0x800);
    assertEquals(0x40, at);
    assertEquals(PciDevice.STATUS_CAPABILITIES, d.readConfig(PciDevice.STATUS, 2) & 0x10);
    assertEquals(0x40, d.readConfig(PciDevice.CAPABILITIES, 1));
    assertEquals(0x0007_0011, d.readConfig(0x40, 4), "id 0x11, last, 8 vectors");
    assertEquals(0x0000_0001, d.readConfig(0x44, 4), "table at 0 in BAR1");
    assertEquals(0x0000_0801, d.readConfig(0x48, 4), "PBA at 0x800 in BAR1");
    d.writeConfig(0x42, 2, 0xffff);
    assertEquals(0xc007, d.readConfig(0x42, 2), "enable and function mask are writable");
    d.writeConfig(0x44, 4, 0);
    assertEquals(1, d.readConfig(0x44, 4));
    int second = MsixCapability.add(d, 1, 2, 0, 2, 0x10);
    assertEquals(0x4c, second);
    assertEquals(0x4c, d.readConfig(0x41, 1), "the first points at the second");
  }

  @Test
  void msixMustFitInAMemoryBar() {
    assertThrows(IllegalArgumentException.class, () -> MsixCapability.add(d, 8, 0, 0, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> MsixCapability.add(d, 257, 1, 0, 2, 0));
    assertThrows(IllegalArgumentException.class, () -> MsixCapability.add(d, 8, 1, 4, 1, 0x800));
  }

  @Test
  void badGeometryIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> Bar.io(3));
    assertThrows(IllegalArgumentException.class, () -> Bar.memory32(8));
    assertThrows(
        IllegalArgumentException.class,
        () -> new PciDevice("x", ID, false, new Bar[] {Bar.memory64(16, false), Bar.io(4)}, 0));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new PciDevice(
                "x",
                ID,
                false,
                new Bar[] {null, null, null, null, null, Bar.memory64(16, false)},
                0));
    assertThrows(
        IllegalArgumentException.class, () -> new PciDevice("x", ID, false, new Bar[0], 5));
  }
}
