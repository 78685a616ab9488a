package dev.toykvm.ioregionfd.wire;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Little-endian field access shared by the command and the response. */
final class Wire {
  private Wire() {}

  static final ValueLayout.OfLong U64 =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  static void checkRoom(MemorySegment segment, String what) {
    if (segment.byteSize() < IoregionCommand.BYTES) {
      throw new IllegalArgumentException(
          "cannot "
              + what
              + ": the segment holds "
              + segment.byteSize()
              + " bytes, a message is "
              + IoregionCommand.BYTES);
    }
  }

  static void checkZero(MemorySegment segment, long from, long to, String what) {
    for (long i = from; i < to; i++) {
      byte b = segment.get(ValueLayout.JAVA_BYTE, i);
      if (b != 0) {
        throw new WireFormatException(
            String.format(
                "cannot decode an ioregionfd %s: padding byte %d is 0x%02x, not 0",
                what, i, b & 0xff));
      }
    }
  }
}
