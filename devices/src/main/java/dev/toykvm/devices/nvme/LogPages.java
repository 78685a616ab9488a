package dev.toykvm.devices.nvme;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The log pages Get Log Page returns (NVMe 1.4, "Get Log Page command"): Error Information (01h,
 * one 64-byte entry, ELPE = 0: {@link ErrorLog}), SMART / Health Information (02h, 512 bytes: a
 * steady temperature, full spare, and the I/O counters) and Firmware Slot Information (03h, 512
 * bytes: slot 1 active).
 */
final class LogPages {
  private LogPages() {}

  static final int ERROR_INFORMATION = 0x01;
  static final int SMART = 0x02;
  static final int FIRMWARE_SLOT = 0x03;

  /** Composite temperature reported, kelvin (22 C). */
  static final int TEMPERATURE = 295;

  /** The log page {@code lid}, or {@code null} if there is no such page. */
  static byte[] page(int lid, IoCounters counters, ErrorLog errors) {
    return switch (lid) {
      case ERROR_INFORMATION -> errors.page();
      case SMART -> smart(counters);
      case FIRMWARE_SLOT -> firmwareSlot();
      default -> null;
    };
  }

  private static byte[] smart(IoCounters c) {
    ByteBuffer b = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
    b.putShort(1, (short) TEMPERATURE);
    b.put(3, (byte) 100); // available spare, percent
    b.put(4, (byte) 10); // available spare threshold
    b.putLong(32, thousands(c.blocksRead())); // data units read, low half
    b.putLong(48, thousands(c.blocksWritten()));
    b.putLong(64, c.readCommands());
    b.putLong(80, c.writeCommands());
    b.putLong(112, 1); // power cycles
    return b.array();
  }

  /** Data units are thousands of 512-byte units, rounded up. */
  private static long thousands(long blocks) {
    return (blocks + 999) / 1000;
  }

  private static byte[] firmwareSlot() {
    ByteBuffer b = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
    b.put(0, (byte) 0x01); // AFI: slot 1 is active
    Identify.ascii(b, 8, 8, Identify.FIRMWARE_REVISION);
    return b.array();
  }
}
