package dev.toykvm.ioregionfd.wire;

import java.lang.foreign.MemorySegment;

/**
 * An ioregionfd response, {@code struct ioregionfd_resp}: {@code u64 data} at byte 0,
 * little-endian, then 24 bytes of padding (written as zeros, ignored when read, as in the RFC). For
 * a read, {@code data} holds the value in its low {@code size} bytes; for a write it is 0 (only the
 * arrival of the response matters).
 *
 * @param data the value read, or 0 for a write
 */
public record IoregionResponse(long data) {

  /** The length of a response on the wire. */
  public static final int BYTES = 32;

  /**
   * Writes the 32 bytes of this response at the start of {@code at}.
   *
   * @throws IllegalArgumentException if {@code at} is shorter than 32 bytes
   */
  public void encode(MemorySegment at) {
    encode(at, data);
  }

  /** {@link #encode(MemorySegment)} without making a record: the server's allocation-free path. */
  public static void encode(MemorySegment at, long data) {
    Wire.checkRoom(at, "encode an ioregionfd response");
    at.set(Wire.U64, 0, data);
    at.set(Wire.U64, 8, 0L);
    at.set(Wire.U64, 16, 0L);
    at.set(Wire.U64, 24, 0L);
  }

  /**
   * Reads a response from the first 32 bytes of {@code from}. The padding is not looked at: the RFC
   * ignores it (see {@link #hasPadding} to notice a device that fills it).
   *
   * @throws IllegalArgumentException if {@code from} is shorter than 32 bytes
   */
  public static IoregionResponse decode(MemorySegment from) {
    Wire.checkRoom(from, "decode an ioregionfd response");
    return new IoregionResponse(from.get(Wire.U64, 0));
  }

  /** Whether any of the 24 padding bytes of the response at the start of {@code from} is set. */
  public static boolean hasPadding(MemorySegment from) {
    Wire.checkRoom(from, "decode an ioregionfd response");
    return (from.get(Wire.U64, 8) | from.get(Wire.U64, 16) | from.get(Wire.U64, 24)) != 0;
  }
}
