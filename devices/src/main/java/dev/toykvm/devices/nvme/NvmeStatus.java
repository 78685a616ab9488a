package dev.toykvm.devices.nvme;

/**
 * The status field of a completion queue entry (NVM Express Base Specification 1.4, "Status Field
 * Definition"), as the 15 bits that sit in bits 31:17 of the entry's dword 3: status code in bits
 * 7:0, status code type in bits 10:8, the Do Not Retry bit in bit 14.
 *
 * <p>Errors caused by what the host asked (a bad field, a bad queue, an LBA out of range) carry
 * DNR: sending the same command again fails the same way. Errors of the moment (a DMA that failed,
 * the disk file failing) do not.
 */
public final class NvmeStatus {
  private NvmeStatus() {}

  /** Do Not Retry. */
  public static final int DNR = 1 << 14;

  public static final int SUCCESS = 0x000;

  // Generic Command Status (type 0).
  public static final int INVALID_OPCODE = 0x001 | DNR;
  public static final int INVALID_FIELD = 0x002 | DNR;
  public static final int DATA_TRANSFER_ERROR = 0x004;
  public static final int INTERNAL_ERROR = 0x006;
  public static final int INVALID_NAMESPACE = 0x00b | DNR;
  public static final int COMMAND_SEQUENCE_ERROR = 0x00c | DNR;
  public static final int INVALID_PRP_OFFSET = 0x013 | DNR;
  public static final int LBA_OUT_OF_RANGE = 0x080 | DNR;

  // Command Specific Status (type 1).
  public static final int COMPLETION_QUEUE_INVALID = 0x100 | DNR;
  public static final int INVALID_QUEUE_IDENTIFIER = 0x101 | DNR;
  public static final int INVALID_QUEUE_SIZE = 0x102 | DNR;
  public static final int ASYNC_EVENT_LIMIT_EXCEEDED = 0x105 | DNR;
  public static final int INVALID_INTERRUPT_VECTOR = 0x108 | DNR;
  public static final int INVALID_LOG_PAGE = 0x109 | DNR;
  public static final int INVALID_QUEUE_DELETION = 0x10c | DNR;
  public static final int FEATURE_NOT_SAVEABLE = 0x10d | DNR;

  // Media and Data Integrity Errors (type 2).
  public static final int WRITE_FAULT = 0x280;
  public static final int UNRECOVERED_READ_ERROR = 0x281;

  /** The status code type (bits 10:8). */
  public static int type(int status) {
    return (status >>> 8) & 0x7;
  }

  /** The status code (bits 7:0). */
  public static int code(int status) {
    return status & 0xff;
  }

  /** Whether Do Not Retry is set. */
  public static boolean dnr(int status) {
    return (status & DNR) != 0;
  }
}
