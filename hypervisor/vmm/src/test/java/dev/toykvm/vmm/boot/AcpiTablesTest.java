package dev.toykvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The ACPI files and their linker/loader script, run here the way SeaBIOS runs it (allocate each
 * file at an address, patch the pointers, fix the checksums), then read as an OS reads the tables.
 */
class AcpiTablesTest {
  private static final long RSDP_AT = 0xf5b00;
  private static final long TABLES_AT = 0x1fff_0000L;

  /** The files placed and linked: file name to bytes, as the guest would see them. */
  private static Map<String, ByteBuffer> load(AcpiTables.Files f) {
    Map<String, ByteBuffer> files = new HashMap<>();
    files.put(AcpiTables.RSDP_FILE, le(f.rsdp().clone()));
    files.put(AcpiTables.TABLES_FILE, le(f.tables().clone()));
    Map<String, Long> at = new HashMap<>();
    ByteBuffer l = le(f.loader());
    assertEquals(0, l.capacity() % AcpiTables.ENTRY);
    for (int e = 0; e < l.capacity(); e += AcpiTables.ENTRY) {
      int command = l.getInt(e);
      String file = name(l, e + 4);
      switch (command) {
        case AcpiTables.ALLOCATE -> {
          int zone = l.get(e + 4 + 56 + 4);
          at.put(file, zone == AcpiTables.ZONE_FSEG ? RSDP_AT : TABLES_AT);
          assertEquals(file.equals(AcpiTables.RSDP_FILE), zone == AcpiTables.ZONE_FSEG, file);
        }
        case AcpiTables.ADD_POINTER -> {
          String src = name(l, e + 4 + 56);
          int offset = l.getInt(e + 4 + 112);
          assertEquals(4, l.get(e + 4 + 116));
          ByteBuffer d = files.get(file);
          d.putInt(offset, (int) (d.getInt(offset) + at.get(src)));
        }
        case AcpiTables.ADD_CHECKSUM -> {
          int offset = l.getInt(e + 4 + 56);
          int start = l.getInt(e + 4 + 60);
          int length = l.getInt(e + 4 + 64);
          ByteBuffer d = files.get(file);
          d.put(offset, (byte) (d.get(offset) - sum(d, start, length)));
        }
        default -> throw new AssertionError("unknown loader command " + command);
      }
    }
    assertEquals(2, at.size(), "both files are allocated");
    return files;
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 8})
  void anOsFindsEveryCpuAndTheIoApicThroughRsdpRsdtAndMadt(int cpus) {
    Map<String, ByteBuffer> files = load(AcpiTables.pc(cpus, 0xfee0_0000L, 0, 0xfec0_0000L));
    ByteBuffer rsdp = files.get(AcpiTables.RSDP_FILE);
    assertEquals("RSD PTR ", ascii(rsdp, 0, 8));
    assertEquals(0, sum(rsdp, 0, 20), "the RSDP's checksum");
    assertEquals(0, rsdp.get(15), "revision 0: an RSDT, no XSDT");

    ByteBuffer t = files.get(AcpiTables.TABLES_FILE);
    int rsdt = (int) (rsdp.getInt(16) - TABLES_AT);
    assertEquals("RSDT", ascii(t, rsdt, 4));
    int rsdtLength = t.getInt(rsdt + 4);
    assertEquals(40, rsdtLength, "one entry");
    assertEquals(0, sum(t, rsdt, rsdtLength), "the RSDT's checksum");

    int madt = (int) (t.getInt(rsdt + 36) - TABLES_AT);
    assertEquals("APIC", ascii(t, madt, 4));
    int length = t.getInt(madt + 4);
    assertEquals(0, sum(t, madt, length), "the MADT's checksum");
    assertEquals("TOYKVM", ascii(t, madt + 10, 6));
    assertEquals(0xfee0_0000, t.getInt(madt + 36));
    assertEquals(1, t.getInt(madt + 40), "PCAT_COMPAT");
    List<String> entries = new java.util.ArrayList<>();
    for (int e = madt + 44; e < madt + length; e += t.get(e + 1)) {
      switch (t.get(e)) {
        case 0 ->
            entries.add("cpu " + t.get(e + 2) + " apic " + t.get(e + 3) + " " + t.getInt(e + 4));
        case 1 ->
            entries.add(
                "ioapic "
                    + t.get(e + 2)
                    + " at "
                    + Integer.toHexString(t.getInt(e + 4))
                    + " gsi "
                    + t.getInt(e + 8));
        case 4 -> entries.add("nmi " + (t.get(e + 2) & 0xff) + " lint" + t.get(e + 5));
        default -> entries.add("type " + t.get(e));
      }
    }
    List<String> want = new java.util.ArrayList<>();
    for (int i = 0; i < cpus; i++) {
      want.add("cpu " + i + " apic " + i + " 1");
    }
    want.add("ioapic 0 at fec00000 gsi 0");
    want.add("nmi 255 lint1");
    assertEquals(want, entries);
  }

  @Test
  void theScriptIsOneAllocationPerFileThenPointersThenChecksums() {
    ByteBuffer l = le(AcpiTables.pc(1, 0xfee0_0000L, 0, 0xfec0_0000L).loader());
    int[] commands = new int[l.capacity() / AcpiTables.ENTRY];
    for (int i = 0; i < commands.length; i++) {
      commands[i] = l.getInt(i * AcpiTables.ENTRY);
    }
    assertArrayEquals(new int[] {1, 1, 2, 2, 3, 3, 3}, commands);
  }

  @Test
  void aMadtHasOneTo255Processors() {
    assertThrows(IllegalArgumentException.class, () -> AcpiTables.pc(0, 0, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> AcpiTables.pc(256, 0, 0, 0));
  }

  private static ByteBuffer le(byte[] b) {
    return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static String name(ByteBuffer b, int at) {
    StringBuilder s = new StringBuilder();
    for (int i = at; b.get(i) != 0; i++) {
      s.append((char) b.get(i));
    }
    return s.toString();
  }

  private static String ascii(ByteBuffer b, int at, int n) {
    byte[] out = new byte[n];
    b.get(at, out);
    return new String(out, StandardCharsets.US_ASCII);
  }

  private static byte sum(ByteBuffer b, int start, int length) {
    byte s = 0;
    for (int i = start; i < start + length; i++) {
      s += b.get(i);
    }
    return s;
  }
}
