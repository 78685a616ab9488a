package dev.toykvm.devices.nvme;

/**
 * BAR0's controller registers (NVMe 1.4, "Controller Registers"): offsets, fields and the values
 * this controller reports. Doorbells start at {@link #DOORBELLS} with a stride of 8 bytes
 * (CAP.DSTRD = 0): submission queue y's tail at {@code 0x1000 + 8y}, completion queue y's head at
 * {@code 0x1004 + 8y}.
 */
final class NvmeRegisters {
  private NvmeRegisters() {}

  static final int CAP = 0x00;
  static final int VS = 0x08;
  static final int INTMS = 0x0c;
  static final int INTMC = 0x10;
  static final int CC = 0x14;
  static final int CSTS = 0x1c;
  static final int AQA = 0x24;
  static final int ASQ = 0x28;
  static final int ACQ = 0x30;
  static final int DOORBELLS = 0x1000;

  /** Version 1.4.0. */
  static final int VERSION = 0x0001_0400;

  /** CAP.TO, in 500 ms units: 7.5 s to become ready (it is at once). */
  static final int TIMEOUT = 0x0f;

  /**
   * CAP: MQES, contiguous queues required (CQR), round robin only (AMS 0), TO, doorbell stride 4
   * bytes (DSTRD 0), no NVM subsystem reset, the NVM command set (CSS bit 0), 4 KiB pages only
   * (MPSMIN = MPSMAX = 0).
   */
  static final long CAP_VALUE = QueueTable.MQES | 1L << 16 | (long) TIMEOUT << 24 | 1L << 37;

  // CC fields.
  static final int CC_EN = 1;

  static int ccCss(int cc) {
    return (cc >>> 4) & 0x7;
  }

  static int ccMps(int cc) {
    return (cc >>> 7) & 0xf;
  }

  static int ccAms(int cc) {
    return (cc >>> 11) & 0x7;
  }

  static int ccShn(int cc) {
    return (cc >>> 14) & 0x3;
  }

  static int ccIosqes(int cc) {
    return (cc >>> 16) & 0xf;
  }

  static int ccIocqes(int cc) {
    return (cc >>> 20) & 0xf;
  }

  // CSTS fields.
  static final int CSTS_RDY = 1;
  static final int CSTS_CFS = 1 << 1;
  static final int CSTS_SHST_COMPLETE = 2 << 2;
}
