package dev.toykvm.devices.nvme;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * The Identify data structures (NVMe 1.4, "Identify command"), 4096 bytes each: the controller (CNS
 * 01h), namespace 1 (CNS 00h), the active namespace list (CNS 02h) and namespace 1's identification
 * descriptors (CNS 03h). Offsets are the specification's byte numbers.
 */
final class Identify {
  private Identify() {}

  static final int SIZE = 4096;

  /** PCI vendor id of QEMU's NVMe controller (Red Hat's QEMU range), as the PCI function. */
  static final int VID = 0x1b36;

  /** QEMU's subsystem vendor id, as the PCI function's. */
  static final int SSVID = 0x1af4;

  /** Maximum Data Transfer Size: 2^5 pages of 4 KiB, 128 KiB. */
  static final int MDTS = 5;

  static final int MAX_TRANSFER = Prp.PAGE << MDTS;

  /** Namespaces: one, NSID 1. */
  static final int NN = 1;

  static final String FIRMWARE_REVISION = "1.0";

  /** Asynchronous Event Request Limit, zero-based: four outstanding. */
  static final int AERL = 3;

  /** Warning composite temperature threshold, kelvin (70 C). */
  static final int WCTEMP = 343;

  /** Critical composite temperature threshold, kelvin (80 C). */
  static final int CCTEMP = 353;

  /** Identify Controller (CNS 01h). */
  static byte[] controller(NvmeConfig config) {
    ByteBuffer b = page();
    b.putShort(0, (short) VID);
    b.putShort(2, (short) SSVID);
    ascii(b, 4, 20, config.serial());
    ascii(b, 24, 40, config.model());
    ascii(b, 64, 8, FIRMWARE_REVISION);
    b.put(72, (byte) 6); // RAB: arbitration burst 2^6
    b.put(77, (byte) MDTS);
    b.putShort(78, (short) 0); // CNTLID
    b.putInt(80, NvmeRegisters.VERSION);
    b.put(111, (byte) 1); // CNTRLTYPE: I/O controller
    b.put(258, (byte) 3); // ACL: four Abort commands
    b.put(259, (byte) AERL);
    b.put(260, (byte) 0x03); // FRMW: one slot, slot 1 read-only
    b.put(262, (byte) 0); // ELPE: one error log entry
    b.put(263, (byte) 0); // NPSS: power state 0 only
    b.putShort(266, (short) WCTEMP);
    b.putShort(268, (short) CCTEMP);
    b.put(512, (byte) 0x66); // SQES: 64-byte entries, required and maximum
    b.put(513, (byte) 0x44); // CQES: 16-byte entries
    b.putInt(516, NN);
    b.putShort(520, (short) 0x0008); // ONCS: Write Zeroes
    b.put(525, (byte) 0x07); // VWC: present; Flush with NSID FFFFFFFFh supported
    ascii(b, 768, 256, "nqn.2026-01.dev.toykvm:nvme:" + config.serial(), (byte) 0);
    b.putShort(2048, (short) 2500); // PSD0: MP, 25 W in centiwatts
    return b.array();
  }

  /** Identify Namespace (CNS 00h) for namespace 1 on {@code disk}. */
  static byte[] namespace(NvmeConfig config, long blocks) {
    ByteBuffer b = page();
    b.putLong(0, blocks); // NSZE
    b.putLong(8, blocks); // NCAP
    b.putLong(16, blocks); // NUSE
    b.put(25, (byte) 0); // NLBAF: one format
    b.put(26, (byte) 0); // FLBAS: format 0, no metadata
    b.putLong(48, blocks * NvmeDisk.BLOCK_SIZE); // NVMCAP, low half
    b.put(104, nguid(config)); // NGUID
    b.putInt(128, 9 << 16); // LBAF0: no metadata, LBADS 9 (512 bytes), best performance
    return b.array();
  }

  /** Active Namespace ID list (CNS 02h): the active NSIDs greater than {@code nsid}. */
  static byte[] activeNamespaces(int nsid) {
    ByteBuffer b = page();
    if (Integer.compareUnsigned(nsid, 1) < 0) {
      b.putInt(0, 1);
    }
    return b.array();
  }

  /** Namespace Identification Descriptor list (CNS 03h) for namespace 1: its NGUID. */
  static byte[] descriptors(NvmeConfig config) {
    ByteBuffer b = page();
    b.put(0, (byte) 0x02); // NIDT: NGUID
    b.put(1, (byte) 16); // NIDL
    b.put(4, nguid(config));
    return b.array();
  }

  /** A stable namespace GUID derived from the serial number. */
  static byte[] nguid(NvmeConfig config) {
    UUID u =
        UUID.nameUUIDFromBytes(
            ("toykvm-nvme:" + config.serial() + ":1").getBytes(StandardCharsets.US_ASCII));
    return ByteBuffer.allocate(16)
        .putLong(u.getMostSignificantBits())
        .putLong(u.getLeastSignificantBits())
        .array();
  }

  private static ByteBuffer page() {
    return ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** An ASCII field padded with spaces, as the specification's string fields are. */
  static void ascii(ByteBuffer b, int at, int length, String s) {
    ascii(b, at, length, s, (byte) ' ');
  }

  private static void ascii(ByteBuffer b, int at, int length, String s, byte pad) {
    byte[] bytes = s.getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i < length; i++) {
      b.put(at + i, i < bytes.length ? bytes[i] : pad);
    }
  }
}
