package dev.toykvm.devices.nvme;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A 64-byte submission queue entry, decoded (NVMe 1.4, "Common Command Format"): dword 0 holds the
 * opcode (bits 7:0), the fused operation (9:8), the PRP or SGL selector PSDT (15:14) and the
 * command identifier (31:16); then NSID (dword 1), the data pointer PRP1 (dwords 6-7) and PRP2
 * (8-9), and the command-specific dwords 10-15.
 */
record Command(
    int opcode,
    int fuse,
    int psdt,
    int cid,
    int nsid,
    long prp1,
    long prp2,
    int cdw10,
    int cdw11,
    int cdw12,
    int cdw13,
    int cdw14,
    int cdw15) {

  /** Bytes in a submission queue entry (CC.IOSQES = 6). */
  static final int SIZE = 64;

  static Command decode(byte[] sqe) {
    ByteBuffer b = ByteBuffer.wrap(sqe).order(ByteOrder.LITTLE_ENDIAN);
    int dw0 = b.getInt(0);
    return new Command(
        dw0 & 0xff,
        (dw0 >>> 8) & 0x3,
        (dw0 >>> 14) & 0x3,
        dw0 >>> 16,
        b.getInt(4),
        b.getLong(24),
        b.getLong(32),
        b.getInt(40),
        b.getInt(44),
        b.getInt(48),
        b.getInt(52),
        b.getInt(56),
        b.getInt(60));
  }

  /** The 64-byte entry (what a host driver writes; tests use it). */
  byte[] encode() {
    ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0, opcode | fuse << 8 | psdt << 14 | cid << 16);
    b.putInt(4, nsid);
    b.putLong(24, prp1);
    b.putLong(32, prp2);
    b.putInt(40, cdw10).putInt(44, cdw11).putInt(48, cdw12);
    b.putInt(52, cdw13).putInt(56, cdw14).putInt(60, cdw15);
    return b.array();
  }
}
