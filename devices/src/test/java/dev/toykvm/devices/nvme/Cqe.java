package dev.toykvm.devices.nvme;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** A completion queue entry as the host reads it. */
record Cqe(int dw0, int sqHead, int sqId, int cid, boolean phase, int status) {
  static Cqe decode(byte[] b) {
    ByteBuffer le = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    int dw2 = le.getInt(8);
    int dw3 = le.getInt(12);
    return new Cqe(
        le.getInt(0), dw2 & 0xffff, dw2 >>> 16, dw3 & 0xffff, (dw3 & 1 << 16) != 0, dw3 >>> 17);
  }

  boolean ok() {
    return status == NvmeStatus.SUCCESS;
  }
}
