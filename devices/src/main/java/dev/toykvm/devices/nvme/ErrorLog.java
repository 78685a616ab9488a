package dev.toykvm.devices.nvme;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The Error Information log (log page 01h, NVMe 1.4 "Error Information"): with ELPE = 0 it holds
 * one 64-byte entry, the most recent error. An entry is a command that completed with an error
 * status (its queue, command id, status and namespace) or an invalid doorbell write (its queue,
 * command id FFFFh). The error count grows by one per error and survives controller resets, as log
 * pages do; 0 means no error has happened.
 */
final class ErrorLog {
  static final int ENTRY_SIZE = 64;
  private static final int NONE = 0xffff;

  private long count;
  private final ByteBuffer entry = ByteBuffer.allocate(ENTRY_SIZE).order(ByteOrder.LITTLE_ENDIAN);

  /** A command on submission queue {@code sqId} completed with {@code status} (not success). */
  void command(int sqId, int cid, int status, int nsid) {
    record(sqId, cid, status, nsid);
  }

  /** A doorbell write for queue {@code qid} was invalid. */
  void doorbell(int qid) {
    record(qid, NONE, 0, 0);
  }

  private void record(int sqId, int cid, int status, int nsid) {
    count++;
    entry.clear();
    entry.put(new byte[ENTRY_SIZE]);
    entry.putLong(0, count);
    entry.putShort(8, (short) sqId);
    entry.putShort(10, (short) cid);
    entry.putShort(12, (short) (status << 1)); // bit 0 is the phase tag's place: 0
    entry.putShort(14, (short) NONE); // parameter error location: not given
    entry.putInt(24, nsid);
  }

  /** The log page. */
  byte[] page() {
    return entry.array().clone();
  }
}
