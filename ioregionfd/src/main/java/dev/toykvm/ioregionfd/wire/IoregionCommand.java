package dev.toykvm.ioregionfd.wire;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An ioregionfd command, {@code struct ioregionfd_cmd} of RFC v3 (2021): 32 bytes, little-endian.
 *
 * <pre>
 * byte  0      cmd: 0 = READ, 1 = WRITE
 * byte  1      bits 0-3 size_exponent (0..3 = 1, 2, 4, 8 bytes), bit 4 resp, bits 5-7 zero
 * bytes 2-7    padding, zero
 * bytes 8-15   user_data, copied from the region unchanged
 * bytes 16-23  offset from the region's start
 * bytes 24-31  data: the value of a write, little-endian in the low size bytes; 0 for a read
 * </pre>
 *
 * <p>A 4-byte write of 0x11223344 at offset 0x10, user_data 0xdeadbeef, resp set, is:
 *
 * <pre>
 * 01 12 00 00 00 00 00 00  ef be ad de 00 00 00 00
 * 10 00 00 00 00 00 00 00  44 33 22 11 00 00 00 00
 * </pre>
 *
 * @param op read or write
 * @param size the access size in bytes: 1, 2, 4 or 8
 * @param resp whether the sender waits for a {@link IoregionResponse} (always for a read; for a
 *     write unless the region has posted writes)
 * @param userData the region's user_data
 * @param offset the offset of the access from the region's start
 * @param data the written value (the bytes past {@code size} are sent as given), 0 for a read
 */
public record IoregionCommand(
    Op op, int size, boolean resp, long userData, long offset, long data) {

  /** The length of a command on the wire. */
  public static final int BYTES = 32;

  private static final int RESP_BIT = 1 << 4;
  private static final int SIZE_MASK = 0x0f;
  private static final int RESERVED_MASK = 0xe0;

  /** The command byte. */
  public enum Op {
    READ,
    WRITE;

    /** The value of byte 0. */
    public int code() {
      return ordinal();
    }
  }

  /**
   * @throws IllegalArgumentException if {@code size} is not 1, 2, 4 or 8
   */
  public IoregionCommand {
    java.util.Objects.requireNonNull(op, "op");
    if (size != 1 && size != 2 && size != 4 && size != 8) {
      throw new IllegalArgumentException(
          "cannot make an ioregionfd command of " + size + " bytes: the size is 1, 2, 4 or 8");
    }
  }

  /** A read, which always waits for a response. */
  public static IoregionCommand read(long userData, long offset, int size) {
    return new IoregionCommand(Op.READ, size, true, userData, offset, 0);
  }

  /** A write of the low {@code size} bytes of {@code value}; {@code resp} false if posted. */
  public static IoregionCommand write(
      long userData, long offset, int size, long value, boolean resp) {
    return new IoregionCommand(Op.WRITE, size, resp, userData, offset, value & mask(size));
  }

  /** {@code data} with the bytes past {@code size} cleared: what the device should store. */
  public long value() {
    return data & mask(size);
  }

  /** All-ones in the low {@code size} bytes. */
  public static long mask(int size) {
    return size >= 8 ? -1L : (1L << (8 * size)) - 1;
  }

  /**
   * Writes the 32 bytes of this command at the start of {@code at}.
   *
   * @throws IllegalArgumentException if {@code at} is shorter than 32 bytes
   */
  public void encode(MemorySegment at) {
    Wire.checkRoom(at, "encode an ioregionfd command");
    at.set(ValueLayout.JAVA_BYTE, 0, (byte) op.code());
    at.set(
        ValueLayout.JAVA_BYTE,
        1,
        (byte) (Integer.numberOfTrailingZeros(size) | (resp ? RESP_BIT : 0)));
    for (int i = 2; i < 8; i++) {
      at.set(ValueLayout.JAVA_BYTE, i, (byte) 0);
    }
    at.set(Wire.U64, 8, userData);
    at.set(Wire.U64, 16, offset);
    at.set(Wire.U64, 24, data);
  }

  /**
   * Reads a command from the first 32 bytes of {@code from}.
   *
   * @throws WireFormatException if the cmd byte is not 0 or 1, the size exponent is above 3, a
   *     reserved bit of byte 1 is set, or a padding byte is not 0
   * @throws IllegalArgumentException if {@code from} is shorter than 32 bytes
   */
  public static IoregionCommand decode(MemorySegment from) {
    Wire.checkRoom(from, "decode an ioregionfd command");
    int cmd = Byte.toUnsignedInt(from.get(ValueLayout.JAVA_BYTE, 0));
    if (cmd > 1) {
      throw new WireFormatException(
          String.format(
              "cannot decode an ioregionfd command: unknown cmd 0x%02x in byte 0"
                  + " (0 = READ, 1 = WRITE)",
              cmd));
    }
    int info = Byte.toUnsignedInt(from.get(ValueLayout.JAVA_BYTE, 1));
    if ((info & RESERVED_MASK) != 0) {
      throw new WireFormatException(
          String.format(
              "cannot decode an ioregionfd command: reserved bits 0x%02x set in byte 1 (0x%02x)",
              info & RESERVED_MASK, info));
    }
    int exponent = info & SIZE_MASK;
    if (exponent > 3) {
      throw new WireFormatException(
          "cannot decode an ioregionfd command: size exponent "
              + exponent
              + " in byte 1 (0..3 = 1, 2, 4, 8 bytes)");
    }
    Wire.checkZero(from, 2, 8, "command");
    return new IoregionCommand(
        cmd == 0 ? Op.READ : Op.WRITE,
        1 << exponent,
        (info & RESP_BIT) != 0,
        from.get(Wire.U64, 8),
        from.get(Wire.U64, 16),
        from.get(Wire.U64, 24));
  }

  @Override
  public String toString() {
    return String.format(
        "%s size %d%s user_data 0x%x offset 0x%x%s",
        op,
        size,
        resp ? " resp" : " posted",
        userData,
        offset,
        op == Op.WRITE ? String.format(" data 0x%x", data) : "");
  }
}
