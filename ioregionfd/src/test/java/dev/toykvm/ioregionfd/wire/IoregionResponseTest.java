package dev.toykvm.ioregionfd.wire;

import static dev.toykvm.ioregionfd.wire.IoregionCommandTest.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class IoregionResponseTest {

  static byte[] encode(IoregionResponse r) {
    byte[] b = new byte[32];
    java.util.Arrays.fill(b, (byte) 0xee); // encode must clear the padding itself
    r.encode(MemorySegment.ofArray(b));
    return b;
  }

  @Test
  void golden() {
    assertArrayEquals(
        bytes(
            "44 33 22 11 00 00 00 00  00 00 00 00 00 00 00 00"
                + "00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00"),
        encode(new IoregionResponse(0x11223344L)));
    assertArrayEquals(
        bytes(
            "ff ff ff ff ff ff ff ff  00 00 00 00 00 00 00 00"
                + "00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00"),
        encode(new IoregionResponse(-1)));
  }

  @Test
  void paddingIsIgnoredButNoticed() {
    for (int i = 8; i < 32; i++) {
      byte[] b = new byte[32];
      b[0] = 7;
      b[i] = 1;
      assertEquals(7, IoregionResponse.decode(MemorySegment.ofArray(b)).data());
      assertTrue(IoregionResponse.hasPadding(MemorySegment.ofArray(b)));
    }
    assertFalse(IoregionResponse.hasPadding(MemorySegment.ofArray(new byte[32])));
  }

  @Test
  void aShortSegmentIsRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> IoregionResponse.decode(MemorySegment.ofArray(new byte[8])));
  }

  @Property
  void roundTrips(@ForAll long data) {
    byte[] b = encode(new IoregionResponse(data));
    assertEquals(data, MemorySegment.ofArray(b).get(Wire.U64, 0));
    assertEquals(0, MemorySegment.ofArray(b).asSlice(8).toArray(ValueLayout.JAVA_BYTE)[23]);
    assertEquals(new IoregionResponse(data), IoregionResponse.decode(MemorySegment.ofArray(b)));
  }
}
