package dev.toykvm.vmm.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * An Intel MultiProcessor table (MP specification 1.4, chapter 4): the MP floating pointer
 * structure followed by the MP configuration table, as one block of bytes meant for guest-physical
 * {@code base}, which is how a kernel without ACPI (memtest86+, Linux with {@code acpi=off}) finds
 * the other CPUs and the I/O APIC's wiring. kvmtool writes the same table for the same reason.
 *
 * <pre>
 * base + 0    floating pointer, 16 bytes: "_MP_", the table's address, 1 paragraph, revision 4,
 *             checksum, feature bytes 0 (a table follows; IMCR absent: virtual wire mode)
 * base + 16   configuration table header, 44 bytes: "PCMP", length, revision 4, checksum,
 *             OEM "TOYKVM", product "MPTABLE", no OEM table, entry count, local APIC 0xfee00000,
 *             no extended table
 *             then the entries in the specification's order:
 *               processors (20 bytes each), buses (8), I/O APICs (8),
 *               I/O interrupt assignments (8), local interrupt assignments (8)
 * </pre>
 *
 * <p>Buses: PCI is bus 0 (the bus ID Linux takes as the PCI bus number) and ISA bus 1. The local
 * interrupt entries say what every local APIC's LINT pins carry: the 8259's INTR on LINT0 (ExtINT)
 * and NMI on LINT1, as the VMM programs them.
 */
public final class MpTable {
  private MpTable() {}

  /** The local APICs' address in every processor's physical address space. */
  public static final long LOCAL_APIC_BASE = 0xfee0_0000L;

  /** The specification revision this table follows: 1.4. */
  static final int SPEC_REVISION = 4;

  static final int FLOATING_POINTER_BYTES = 16;
  static final int HEADER_BYTES = 44;
  static final int PROCESSOR_BYTES = 20;
  static final int ENTRY_BYTES = 8;

  static final int TYPE_PROCESSOR = 0;
  static final int TYPE_BUS = 1;
  static final int TYPE_IOAPIC = 2;
  static final int TYPE_IO_INTERRUPT = 3;
  static final int TYPE_LOCAL_INTERRUPT = 4;

  static final int INT_VECTORED = 0; // "INT": the APIC supplies the vector
  static final int INT_NMI = 1;
  static final int INT_EXTINT = 3; // the vector comes from the 8259

  /** Interrupt flags: active high (PO = 01), edge triggered (EL = 01): the ISA convention. */
  static final int FLAGS_EDGE_HIGH = 0b0101;

  /** Interrupt flags: active low (PO = 11), level triggered (EL = 11): PCI INTx#. */
  static final int FLAGS_LEVEL_LOW = 0b1111;

  /** Interrupt flags: conforming to the bus (PO = EL = 00). */
  static final int FLAGS_CONFORMING = 0;

  /** The bus IDs this table gives its buses. */
  public static final int PCI_BUS_ID = 0;

  public static final int ISA_BUS_ID = 1;

  /** A destination ID meaning every local APIC. */
  static final int ALL_LOCAL_APICS = 0xff;

  static final String OEM_ID = "TOYKVM";
  static final String PRODUCT_ID = "MPTABLE";

  /**
   * One processor.
   *
   * @param apicId its local APIC's ID
   * @param apicVersion its local APIC's version register, bits 7:0
   * @param bootProcessor whether it is the bootstrap processor
   * @param signature CPUID leaf 1 EAX (stepping, model, family)
   * @param features CPUID leaf 1 EDX
   */
  public record Processor(
      int apicId, int apicVersion, boolean bootProcessor, int signature, int features) {}

  /**
   * The I/O APIC.
   *
   * @param id its ID register, bits 27:24
   * @param version its version register, bits 7:0
   * @param address where its registers are
   */
  public record IoApic(int id, int version, long address) {}

  /**
   * An ISA IRQ and the I/O APIC input it reaches.
   *
   * @param irq the ISA IRQ (0-15)
   * @param ioapicPin the I/O APIC's INTIN number
   */
  public record IsaInterrupt(int irq, int ioapicPin) {}

  /**
   * A PCI device's interrupt pin and the I/O APIC input it reaches.
   *
   * @param device the device number on bus 0 (0-31)
   * @param pin its INTx# pin: 1-4 for INTA#-INTD#, as the interrupt pin register says
   * @param ioapicPin the I/O APIC's INTIN number
   */
  public record PciInterrupt(int device, int pin, int ioapicPin) {}

  /**
   * What the table says.
   *
   * @param processors every processor, in APIC ID order
   * @param ioapic the one I/O APIC
   * @param isa the ISA IRQs that reach it
   * @param pci the PCI interrupt pins that reach it
   */
  public record Contents(
      List<Processor> processors, IoApic ioapic, List<IsaInterrupt> isa, List<PciInterrupt> pci) {
    public Contents {
      processors = List.copyOf(processors);
      isa = List.copyOf(isa);
      pci = List.copyOf(pci);
    }
  }

  /** How many bytes the floating pointer and the table for {@code c} take. */
  public static int size(Contents c) {
    return FLOATING_POINTER_BYTES
        + HEADER_BYTES
        + PROCESSOR_BYTES * c.processors().size()
        + ENTRY_BYTES * (entries(c) - c.processors().size());
  }

  private static int entries(Contents c) {
    // processors, two buses, the I/O APIC, its inputs, two local interrupt entries
    return c.processors().size() + 2 + 1 + c.isa().size() + c.pci().size() + 2;
  }

  /**
   * The floating pointer and the configuration table right after it, for guest-physical {@code
   * base}.
   *
   * @param base where the block goes: 16-byte aligned, below 1 MiB (the pointer is 32-bit)
   * @param room the bytes free at {@code base}
   * @throws IllegalArgumentException if {@code base} is not 16-byte aligned or not below 4 GiB, a
   *     field does not fit its byte, or the block is larger than {@code room}
   */
  public static byte[] build(long base, int room, Contents c) {
    if ((base & 0xf) != 0 || base < 0 || base + FLOATING_POINTER_BYTES > 0x1_0000_0000L) {
      throw new IllegalArgumentException(
          "cannot build the MP table at 0x%x: not a 16-byte aligned 32-bit address"
              .formatted(base));
    }
    int size = size(c);
    if (size > room) {
      throw new IllegalArgumentException(
          "cannot build the MP table: %d processors, %d ISA and %d PCI interrupts take %d bytes,"
                  .formatted(c.processors().size(), c.isa().size(), c.pci().size(), size)
              + " more than the %d bytes at 0x%x".formatted(room, base));
    }
    ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    long table = base + FLOATING_POINTER_BYTES;
    b.put(ascii("_MP_", 4))
        .putInt((int) table)
        .put((byte) (FLOATING_POINTER_BYTES / 16))
        .put((byte) SPEC_REVISION)
        .put((byte) 0) // checksum, below
        .put(new byte[5]); // feature bytes: a configuration table is present; no IMCR
    b.put(10, checksum(b.array(), 0, FLOATING_POINTER_BYTES));

    int start = FLOATING_POINTER_BYTES;
    b.put(ascii("PCMP", 4))
        .putShort(u16(size - start, "table length"))
        .put((byte) SPEC_REVISION)
        .put((byte) 0) // checksum, below
        .put(ascii(OEM_ID, 8))
        .put(ascii(PRODUCT_ID, 12))
        .putInt(0) // no OEM table
        .putShort((short) 0)
        .putShort(u16(entries(c), "entry count"))
        .putInt((int) LOCAL_APIC_BASE)
        .putShort((short) 0) // no extended table
        .put((byte) 0)
        .put((byte) 0);
    for (Processor p : c.processors()) {
      b.put((byte) TYPE_PROCESSOR)
          .put(u8(p.apicId(), "a local APIC ID"))
          .put(u8(p.apicVersion(), "a local APIC version"))
          .put((byte) (1 | (p.bootProcessor() ? 2 : 0))) // enabled, bootstrap processor
          .putInt(p.signature())
          .putInt(p.features())
          .put(new byte[8]);
    }
    bus(b, PCI_BUS_ID, "PCI");
    bus(b, ISA_BUS_ID, "ISA");
    IoApic io = c.ioapic();
    if (io.address() < 0 || io.address() >= 0x1_0000_0000L) {
      throw new IllegalArgumentException(
          "cannot build the MP table: the I/O APIC at 0x%x is above 4 GiB".formatted(io.address()));
    }
    b.put((byte) TYPE_IOAPIC)
        .put(u8(io.id(), "an I/O APIC ID"))
        .put(u8(io.version(), "an I/O APIC version"))
        .put((byte) 1) // enabled
        .putInt((int) io.address());
    for (IsaInterrupt i : c.isa()) {
      interrupt(
          b,
          TYPE_IO_INTERRUPT,
          INT_VECTORED,
          FLAGS_EDGE_HIGH,
          ISA_BUS_ID,
          i.irq(),
          io.id(),
          i.ioapicPin());
    }
    for (PciInterrupt p : c.pci()) {
      if (p.device() < 0 || p.device() > 31 || p.pin() < 1 || p.pin() > 4) {
        throw new IllegalArgumentException(
            "cannot build the MP table: PCI device %d pin %d is not a device 0-31 with a pin 1-4"
                .formatted(p.device(), p.pin()));
      }
      // Source bus IRQ for PCI: bits 6:2 the device, bits 1:0 the pin (0 = INTA#).
      interrupt(
          b,
          TYPE_IO_INTERRUPT,
          INT_VECTORED,
          FLAGS_LEVEL_LOW,
          PCI_BUS_ID,
          p.device() << 2 | (p.pin() - 1),
          io.id(),
          p.ioapicPin());
    }
    interrupt(
        b, TYPE_LOCAL_INTERRUPT, INT_EXTINT, FLAGS_CONFORMING, ISA_BUS_ID, 0, ALL_LOCAL_APICS, 0);
    interrupt(
        b, TYPE_LOCAL_INTERRUPT, INT_NMI, FLAGS_CONFORMING, ISA_BUS_ID, 0, ALL_LOCAL_APICS, 1);
    b.put(start + 7, checksum(b.array(), start, size - start));
    return b.array();
  }

  private static void bus(ByteBuffer b, int id, String type) {
    b.put((byte) TYPE_BUS).put((byte) id).put(ascii(type, 6));
  }

  private static void interrupt(
      ByteBuffer b, int type, int kind, int flags, int bus, int busIrq, int dest, int destPin) {
    b.put((byte) type)
        .put((byte) kind)
        .putShort((short) flags)
        .put((byte) bus)
        .put(u8(busIrq, "a source bus IRQ"))
        .put(u8(dest, "a destination APIC ID"))
        .put(u8(destPin, "a destination input"));
  }

  /** The byte that makes {@code length} bytes from {@code from} sum to 0 modulo 256. */
  static byte checksum(byte[] bytes, int from, int length) {
    int sum = 0;
    for (int i = from; i < from + length; i++) {
      sum += bytes[i];
    }
    return (byte) -sum;
  }

  /** {@code s} in ASCII, padded with spaces to {@code n} bytes (the specification's strings). */
  private static byte[] ascii(String s, int n) {
    byte[] out = new byte[n];
    java.util.Arrays.fill(out, (byte) ' ');
    byte[] in = s.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(in, 0, out, 0, Math.min(n, in.length));
    return out;
  }

  private static byte u8(int v, String what) {
    if (v < 0 || v > 0xff) {
      throw new IllegalArgumentException(
          "cannot build the MP table: %s of %d does not fit a byte".formatted(what, v));
    }
    return (byte) v;
  }

  private static short u16(int v, String what) {
    if (v < 0 || v > 0xffff) {
      throw new IllegalArgumentException(
          "cannot build the MP table: a %s of %d does not fit 16 bits".formatted(what, v));
    }
    return (short) v;
  }
}
