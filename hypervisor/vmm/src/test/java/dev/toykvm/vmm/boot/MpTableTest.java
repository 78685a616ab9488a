package dev.toykvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The MP table's bytes, field by field (MP specification 1.4, chapter 4). */
class MpTableTest {
  static final long BASE = 0x9fc00;

  static MpTable.Contents contents(int cpus, List<MpTable.PciInterrupt> pci) {
    List<MpTable.Processor> p = new ArrayList<>();
    for (int i = 0; i < cpus; i++) {
      p.add(new MpTable.Processor(i, 0x14, i == 0, 0x663, 0x0789_fbff));
    }
    List<MpTable.IsaInterrupt> isa = new ArrayList<>();
    for (int irq : new int[] {0, 1, 3, 4, 8}) {
      isa.add(new MpTable.IsaInterrupt(irq, irq));
    }
    return new MpTable.Contents(p, new MpTable.IoApic(0, 0x11, 0xfec00000L), isa, pci);
  }

  static ByteBuffer le(byte[] b) {
    return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
  }

  static String ascii(byte[] b, int at, int n) {
    return new String(b, at, n, StandardCharsets.US_ASCII);
  }

  static int sum(byte[] b, int from, int n) {
    int s = 0;
    for (int i = from; i < from + n; i++) {
      s += b[i] & 0xff;
    }
    return s & 0xff;
  }

  @Test
  void theFloatingPointerNamesTheTableRightAfterIt() {
    byte[] t = MpTable.build(BASE, 1024, contents(2, List.of()));
    ByteBuffer b = le(t);
    assertEquals("_MP_", ascii(t, 0, 4));
    assertEquals(BASE + 16, b.getInt(4) & 0xffff_ffffL, "physical address pointer");
    assertEquals(1, t[8], "length in paragraphs");
    assertEquals(4, t[9], "specification revision 1.4");
    assertEquals(0, sum(t, 0, 16), "the 16 bytes sum to 0");
    assertEquals(0, t[11], "feature 1: a configuration table is present");
    assertEquals(0, t[12], "feature 2: IMCR absent, virtual wire mode");
    assertEquals(0, t[13] | t[14] | t[15], "feature bytes 3-5 reserved");
  }

  @Test
  void theHeaderCountsAndChecksumsEveryEntry() {
    byte[] t = MpTable.build(BASE, 1024, contents(4, List.of()));
    ByteBuffer b = le(t);
    int h = 16;
    assertEquals("PCMP", ascii(t, h, 4));
    int length = b.getShort(h + 4) & 0xffff;
    assertEquals(t.length - 16, length, "base table length");
    assertEquals(4, t[h + 6], "specification revision");
    assertEquals(0, sum(t, h, length), "the table sums to 0");
    assertEquals("TOYKVM  ", ascii(t, h + 8, 8), "OEM ID, space-padded");
    assertEquals("MPTABLE     ", ascii(t, h + 16, 12), "product ID, space-padded");
    assertEquals(0, b.getInt(h + 28), "no OEM table");
    assertEquals(0, b.getShort(h + 32), "OEM table size");
    // 4 processors, 2 buses, 1 I/O APIC, 5 ISA interrupts, 2 local interrupts
    assertEquals(14, b.getShort(h + 34), "entry count");
    assertEquals(0xfee00000L, b.getInt(h + 36) & 0xffff_ffffL, "local APIC address");
    assertEquals(0, b.getShort(h + 40), "no extended table");
    assertEquals(0, t[h + 42], "extended checksum");
    assertEquals(44 + 4 * 20 + 10 * 8, length);
  }

  @Test
  void processorEntriesComeFirstWithTheBspFlaggedOnce() {
    byte[] t = MpTable.build(BASE, 1024, contents(3, List.of()));
    ByteBuffer b = le(t);
    for (int i = 0; i < 3; i++) {
      int e = 16 + 44 + 20 * i;
      assertEquals(0, t[e], "type: processor");
      assertEquals(i, t[e + 1], "local APIC ID");
      assertEquals(0x14, t[e + 2], "local APIC version");
      assertEquals(i == 0 ? 3 : 1, t[e + 3], "enabled, BSP only on the first");
      assertEquals(0x663, b.getInt(e + 4), "CPU signature");
      assertEquals(0x0789_fbff, b.getInt(e + 8), "feature flags");
      assertEquals(0, b.getLong(e + 12), "reserved");
    }
  }

  @Test
  void busesIoApicAndInterruptsFollowInTheSpecificationsOrder() {
    byte[] t =
        MpTable.build(
            BASE,
            1024,
            contents(
                1,
                List.of(new MpTable.PciInterrupt(3, 1, 11), new MpTable.PciInterrupt(4, 2, 10))));
    ByteBuffer b = le(t);
    int e = 16 + 44 + 20;
    assertEquals(1, t[e]);
    assertEquals(0, t[e + 1], "PCI is bus 0");
    assertEquals("PCI   ", ascii(t, e + 2, 6));
    e += 8;
    assertEquals(1, t[e]);
    assertEquals(1, t[e + 1], "ISA is bus 1");
    assertEquals("ISA   ", ascii(t, e + 2, 6));
    e += 8;
    assertEquals(2, t[e], "type: I/O APIC");
    assertEquals(0, t[e + 1], "its ID");
    assertEquals(0x11, t[e + 2], "its version");
    assertEquals(1, t[e + 3], "enabled");
    assertEquals(0xfec00000L, b.getInt(e + 4) & 0xffff_ffffL);
    e += 8;
    for (int irq : new int[] {0, 1, 3, 4, 8}) {
      assertEquals(3, t[e], "type: I/O interrupt");
      assertEquals(0, t[e + 1], "INT");
      assertEquals(0b0101, b.getShort(e + 2), "edge, active high");
      assertEquals(1, t[e + 4], "from the ISA bus");
      assertEquals(irq, t[e + 5], "ISA IRQ");
      assertEquals(0, t[e + 6], "to the I/O APIC");
      assertEquals(irq, t[e + 7], "its pin");
      e += 8;
    }
    // 00:03 INTA# -> pin 11; 00:04 INTB# -> pin 10
    int[][] pci = {{3 << 2, 11}, {4 << 2 | 1, 10}};
    for (int[] p : pci) {
      assertEquals(3, t[e]);
      assertEquals(0, t[e + 1], "INT");
      assertEquals(0b1111, b.getShort(e + 2), "level, active low");
      assertEquals(0, t[e + 4], "from the PCI bus");
      assertEquals(p[0], t[e + 5], "device << 2 | pin - 1");
      assertEquals(0, t[e + 6]);
      assertEquals(p[1], t[e + 7]);
      e += 8;
    }
    int[][] lint = {{3, 0}, {1, 1}}; // ExtINT on LINT0, NMI on LINT1
    for (int[] l : lint) {
      assertEquals(4, t[e], "type: local interrupt");
      assertEquals(l[0], t[e + 1]);
      assertEquals(0, b.getShort(e + 2), "conforming");
      assertEquals(0xff, t[e + 6] & 0xff, "every local APIC");
      assertEquals(l[1], t[e + 7], "LINTIN#");
      e += 8;
    }
    assertEquals(t.length, e, "nothing after the last entry");
    assertEquals(0, sum(t, 16, t.length - 16));
  }

  @Test
  void eightCpusAndManyPciPinsFitInTheEbdasKib() {
    List<MpTable.PciInterrupt> pci = new ArrayList<>();
    for (int dev = 2; dev < 32; dev++) {
      pci.add(new MpTable.PciInterrupt(dev, 1, 10 + (dev & 1)));
    }
    MpTable.Contents c = contents(8, pci);
    byte[] t = MpTable.build(BASE, 1024, c);
    assertEquals(MpTable.size(c), t.length);
    assertTrue(t.length <= 1024, "bytes: " + t.length);
  }

  @Test
  void aTableLargerThanItsRoomIsRefused() {
    var e =
        assertThrows(
            IllegalArgumentException.class, () -> MpTable.build(BASE, 200, contents(8, List.of())));
    assertTrue(
        e.getMessage().startsWith("cannot build the MP table: 8 processors"), e.getMessage());
  }

  @Test
  void badFieldsAreRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> MpTable.build(BASE + 4, 1024, contents(1, List.of())));
    var bigId =
        new MpTable.Contents(
            List.of(new MpTable.Processor(256, 0x14, true, 0, 0)),
            new MpTable.IoApic(0, 0x11, 0xfec00000L),
            List.of(),
            List.of());
    assertThrows(IllegalArgumentException.class, () -> MpTable.build(BASE, 1024, bigId));
    assertThrows(
        IllegalArgumentException.class,
        () -> MpTable.build(BASE, 1024, contents(1, List.of(new MpTable.PciInterrupt(3, 5, 10)))));
  }
}
