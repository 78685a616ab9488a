package dev.toykvm.vmm.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The MSI-X table and PBA as the guest reads and writes them. */
class MsixTableTest {
  private final List<Integer> changed = new ArrayList<>();
  private Set<Integer> pending = Set.of();
  private final MsixTable table = new MsixTable("fake", 70);

  MsixTableTest() {
    table.listen(
        new MsixTable.Listener() {
          @Override
          public void entryChanged(int vector) {
            changed.add(vector);
          }

          @Override
          public boolean pending(int vector) {
            return pending.contains(vector);
          }
        });
  }

  @Test
  void entriesResetMaskedWithAddressAndDataZero() {
    for (int v = 0; v < 70; v++) {
      assertEquals(new MsixTable.Entry(0, 0, true), table.entry(v));
      assertEquals(0, table.read(16L * v, 8));
      assertEquals(1, table.read(16L * v + 12, 4));
    }
  }

  @Test
  void dwordAndQwordWritesSetTheEntryAndTellTheListenerOnce() {
    table.write(16 * 3, 8, 0x0000_0001_fee0_1003L); // address, bits 1:0 read 0
    table.write(16 * 3 + 8, 8, 0xffff_fffeL << 32 | 0x4061L); // data; control: only bit 0
    assertEquals(new MsixTable.Entry(0x1_fee0_1000L, 0x4061, false), table.entry(3));
    assertEquals(0xfee0_1000L, table.read(16 * 3, 4));
    assertEquals(1, table.read(16 * 3 + 4, 4));
    assertEquals(0, table.read(16 * 3 + 12, 4));
    assertEquals(List.of(3, 3), changed);
    table.write(16 * 3 + 8, 4, 0x4061); // no change: not told
    assertEquals(List.of(3, 3), changed);
    table.write(16 * 3 + 12, 4, 1);
    assertEquals(List.of(3, 3, 3), changed);
    assertEquals(new MsixTable.Entry(0x1_fee0_1000L, 0x4061, true), table.entry(3));
  }

  @Test
  void otherAccessesReadTheBytesAndWritesAreDropped() {
    table.write(0, 4, 0xfee0_1234);
    assertEquals(0x12, table.read(1, 1));
    assertEquals(0xfee0, table.read(2, 2));
    table.write(0, 1, 0xff);
    table.write(4, 8, -1L); // unaligned qword
    table.write(2, 4, -1); // unaligned dword
    assertEquals(0xfee0_1234L, table.read(0, 4));
    assertEquals(List.of(0), changed);
    assertEquals(5, table.oddAccesses(), "two reads, three writes");
  }

  @Test
  void thePbaReadsThePendingVectorsAndIgnoresWrites() {
    pending = Set.of(0, 5, 63, 64, 69);
    assertEquals(1L | 1L << 5 | 1L << 63, table.read(MsixTable.PBA_OFFSET, 8));
    assertEquals(1L | 1L << 5, table.read(MsixTable.PBA_OFFSET, 4));
    assertEquals(1L | 1L << 5, table.read(MsixTable.PBA_OFFSET + 8, 8));
    assertEquals(0x80, table.read(MsixTable.PBA_OFFSET + 7, 1));
    assertEquals(0, table.read(MsixTable.PBA_OFFSET + 16, 8), "past the array");
    table.write(MsixTable.PBA_OFFSET, 8, 0);
    assertEquals(1L | 1L << 5 | 1L << 63, table.read(MsixTable.PBA_OFFSET, 8));
    assertEquals(List.of(), changed);
  }

  @Test
  void pastTheTableReadsZero() {
    assertEquals(0, table.read(16 * 70, 8));
    table.write(16 * 70, 4, -1);
    assertEquals(0, table.read(16 * 70, 4));
    assertEquals(List.of(), changed);
  }

  @Test
  void theVectorCountIsChecked() {
    assertThrows(IllegalArgumentException.class, () -> new MsixTable("fake", 0));
    assertThrows(IllegalArgumentException.class, () -> new MsixTable("fake", 257));
    assertEquals(256, new MsixTable("fake", 256).vectors());
  }
}
