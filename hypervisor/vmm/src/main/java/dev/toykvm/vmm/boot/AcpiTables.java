package dev.toykvm.vmm.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The ACPI tables a PC firmware installs for the guest, in the form QEMU hands them to SeaBIOS:
 * fw_cfg files with the tables, and {@code etc/table-loader}, the linker/loader script that says
 * where each file goes (FSEG or high memory), which pointers to patch once the files have
 * addresses, and which checksums to fix. SeaBIOS runs the script and finds the RSDP.
 *
 * <p>What is there: an RSDP (revision 0) in FSEG, and in {@code etc/acpi/tables} an RSDT with one
 * entry, the MADT: one enabled Processor Local APIC per vCPU (ACPI processor ID = APIC ID = vCPU
 * number), the I/O APIC, and LINT1 of every processor as NMI; the flag PCAT_COMPAT (8259s present).
 * No FADT or DSDT (so no AML, no PM timer, no _PRT): an OS that needs more of ACPI than the CPU
 * list falls back to the Intel MP table, as on a PC without them. Without interrupt source
 * overrides: toykvm's I/O APIC wires ISA IRQ n to pin n, the PIT too (the MP table says the same).
 */
public final class AcpiTables {
  /** fw_cfg file of the RSDP. */
  public static final String RSDP_FILE = "etc/acpi/rsdp";

  /** fw_cfg file of the other tables. */
  public static final String TABLES_FILE = "etc/acpi/tables";

  /** fw_cfg file of the linker/loader script. */
  public static final String LOADER_FILE = "etc/table-loader";

  /** A loader command: 128 bytes, a little-endian command word then its arguments. */
  static final int ENTRY = 128;

  static final int ALLOCATE = 1;
  static final int ADD_POINTER = 2;
  static final int ADD_CHECKSUM = 3;
  static final int ZONE_HIGH = 1;
  static final int ZONE_FSEG = 2;
  private static final int FILE_NAME = 56;

  /** Where the MADT starts in {@code etc/acpi/tables}, after the RSDT. */
  static final int MADT_OFFSET = 64;

  private static final int HEADER = 36;
  private static final byte[] OEM_ID = ascii("TOYKVM", 6);
  private static final byte[] OEM_TABLE_ID = ascii("TOYKVMPC", 8);

  /**
   * The three files.
   *
   * @param rsdp {@code etc/acpi/rsdp}
   * @param tables {@code etc/acpi/tables}
   * @param loader {@code etc/table-loader}
   */
  public record Files(byte[] rsdp, byte[] tables, byte[] loader) {}

  private AcpiTables() {}

  /**
   * The tables of a PC with {@code cpus} processors (APIC IDs 0 to cpus - 1), its local APICs at
   * {@code lapicBase} and an I/O APIC of ID {@code ioapicId} at {@code ioapicBase} (GSIs from 0).
   *
   * @throws IllegalArgumentException if {@code cpus} is not 1 to 255
   */
  public static Files pc(int cpus, long lapicBase, int ioapicId, long ioapicBase) {
    if (cpus < 1 || cpus > 255) {
      throw new IllegalArgumentException("an xAPIC MADT lists 1 to 255 processors, not " + cpus);
    }
    byte[] madt = madt(cpus, lapicBase, ioapicId, ioapicBase);
    ByteBuffer t = ByteBuffer.allocate(MADT_OFFSET + madt.length).order(ByteOrder.LITTLE_ENDIAN);
    header(t, "RSDT", HEADER + 4, 1);
    t.putInt(MADT_OFFSET); // an offset in this file: the loader adds the file's address
    t.position(MADT_OFFSET);
    t.put(madt);

    ByteBuffer r = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
    r.put(ascii("RSD PTR ", 8)).put((byte) 0).put(OEM_ID).put((byte) 0).putInt(0);

    ByteBuffer l = ByteBuffer.allocate(7 * ENTRY).order(ByteOrder.LITTLE_ENDIAN);
    allocate(l, RSDP_FILE, 16, ZONE_FSEG);
    allocate(l, TABLES_FILE, 64, ZONE_HIGH);
    pointer(l, TABLES_FILE, TABLES_FILE, HEADER, 4); // RSDT entry 0 -> the MADT
    pointer(l, RSDP_FILE, TABLES_FILE, 16, 4); // RsdtAddress -> the RSDT
    checksum(l, TABLES_FILE, 9, 0, HEADER + 4);
    checksum(l, TABLES_FILE, MADT_OFFSET + 9, MADT_OFFSET, madt.length);
    checksum(l, RSDP_FILE, 8, 0, 20);
    return new Files(r.array(), t.array(), l.array());
  }

  private static byte[] madt(int cpus, long lapicBase, int ioapicId, long ioapicBase) {
    int length = HEADER + 8 + 8 * cpus + 12 + 6;
    ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    header(b, "APIC", length, 1);
    b.putInt((int) lapicBase);
    b.putInt(1); // PCAT_COMPAT: the 8259s are there too
    for (int id = 0; id < cpus; id++) {
      b.put((byte) 0).put((byte) 8).put((byte) id).put((byte) id).putInt(1); // enabled
    }
    b.put((byte) 1).put((byte) 12).put((byte) ioapicId).put((byte) 0);
    b.putInt((int) ioapicBase).putInt(0);
    // Local APIC NMI: every processor (0xff), flags "conforms to the bus", LINT1.
    b.put((byte) 4).put((byte) 6).put((byte) 0xff).putShort((short) 0).put((byte) 1);
    return b.array();
  }

  /** A system description table header; the checksum (byte 9) is left 0 for the loader. */
  private static void header(ByteBuffer b, String signature, int length, int revision) {
    b.put(ascii(signature, 4)).putInt(length).put((byte) revision).put((byte) 0);
    b.put(OEM_ID).put(OEM_TABLE_ID).putInt(1).put(ascii("TKVM", 4)).putInt(1);
  }

  private static void allocate(ByteBuffer l, String file, int align, int zone) {
    int at = l.position();
    l.putInt(ALLOCATE).put(ascii(file, FILE_NAME)).putInt(align).put((byte) zone);
    l.position(at + ENTRY);
  }

  private static void pointer(ByteBuffer l, String dest, String src, int offset, int size) {
    int at = l.position();
    l.putInt(ADD_POINTER).put(ascii(dest, FILE_NAME)).put(ascii(src, FILE_NAME));
    l.putInt(offset).put((byte) size);
    l.position(at + ENTRY);
  }

  private static void checksum(ByteBuffer l, String file, int offset, int start, int length) {
    int at = l.position();
    l.putInt(ADD_CHECKSUM).put(ascii(file, FILE_NAME)).putInt(offset).putInt(start).putInt(length);
    l.position(at + ENTRY);
  }

  /** {@code s} in {@code n} bytes, NUL-padded. */
  private static byte[] ascii(String s, int n) {
    byte[] in = s.getBytes(StandardCharsets.US_ASCII);
    if (in.length > n) {
      throw new IllegalArgumentException("'" + s + "' is longer than " + n + " bytes");
    }
    byte[] out = new byte[n];
    System.arraycopy(in, 0, out, 0, in.length);
    return out;
  }
}
