package dev.toykvm.ioregionfd.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.toykvm.ioregionfd.wire.IoregionCommand.Op;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class IoregionCommandTest {

  /** Hex with spaces ignored, so golden bytes can be laid out as in a dump. */
  static byte[] bytes(String hex) {
    return HexFormat.of().parseHex(hex.replace(" ", ""));
  }

  static byte[] encode(IoregionCommand c) {
    MemorySegment s = MemorySegment.ofArray(new byte[IoregionCommand.BYTES]);
    c.encode(s);
    return s.toArray(ValueLayout.JAVA_BYTE);
  }

  static IoregionCommand decode(String hex) {
    return IoregionCommand.decode(MemorySegment.ofArray(bytes(hex)));
  }

  @Test
  void aFourByteWriteWithResponse() {
    byte[] golden =
        bytes(
            "01 12 00 00 00 00 00 00  ef be ad de 00 00 00 00"
                + "10 00 00 00 00 00 00 00  44 33 22 11 00 00 00 00");
    IoregionCommand c = IoregionCommand.write(0xdeadbeefL, 0x10, 4, 0x11223344L, true);
    assertArrayEquals(golden, encode(c));
    assertEquals(c, IoregionCommand.decode(MemorySegment.ofArray(golden)));
  }

  @Test
  void aOneByteRead() {
    // cmd 0, size_exponent 0, resp 1: byte 1 = 0x10.
    byte[] golden =
        bytes(
            "00 10 00 00 00 00 00 00  01 00 00 00 00 00 00 00"
                + "04 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00");
    assertArrayEquals(golden, encode(IoregionCommand.read(1, 4, 1)));
  }

  @Test
  void aPostedEightByteWriteWithHighBits() {
    // size_exponent 3, resp 0: byte 1 = 0x03; user_data and offset use all 64 bits.
    byte[] golden =
        bytes(
            "01 03 00 00 00 00 00 00  08 07 06 05 04 03 02 f1"
                + "f8 ff ff ff ff ff ff ff  88 77 66 55 44 33 22 11");
    IoregionCommand c =
        IoregionCommand.write(0xf102030405060708L, -8, 8, 0x1122334455667788L, false);
    assertArrayEquals(golden, encode(c));
    assertEquals(c, IoregionCommand.decode(MemorySegment.ofArray(golden)));
  }

  @Test
  void aTwoByteReadDecodes() {
    IoregionCommand c =
        decode(
            "00 11 00 00 00 00 00 00  00 00 00 00 00 00 00 00"
                + "34 12 00 00 00 00 00 00  00 00 00 00 00 00 00 00");
    assertEquals(new IoregionCommand(Op.READ, 2, true, 0, 0x1234, 0), c);
  }

  @Test
  void writeMasksTheValueToItsSize() {
    IoregionCommand c = IoregionCommand.write(0, 0, 1, 0x11223344L, true);
    assertEquals(0x44, c.data());
    assertEquals(0x44, new IoregionCommand(Op.WRITE, 1, true, 0, 0, 0x11223344L).value());
  }

  @Test
  void unknownCmdIsRejected() {
    WireFormatException e =
        assertThrows(
            WireFormatException.class,
            () ->
                decode(
                    "02 10 00 00 00 00 00 00  00 00 00 00 00 00 00 00"
                        + "00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00"));
    assertEquals(
        "cannot decode an ioregionfd command: unknown cmd 0x02 in byte 0 (0 = READ, 1 = WRITE)",
        e.getMessage());
    assertThrows(
        WireFormatException.class,
        () ->
            decode(
                "ff 10 00 00 00 00 00 00  00 00 00 00 00 00 00 00"
                    + "00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00"));
  }

  @Test
  void sizeExponentAboveThreeIsRejected() {
    WireFormatException e =
        assertThrows(
            WireFormatException.class,
            () ->
                decode(
                    "00 14 00 00 00 00 00 00  00 00 00 00 00 00 00 00"
                        + "00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00"));
    assertEquals(
        "cannot decode an ioregionfd command: size exponent 4 in byte 1 (0..3 = 1, 2, 4, 8 bytes)",
        e.getMessage());
  }

  @Test
  void reservedBitsAreRejected() {
    for (String b1 : new String[] {"20", "40", "80", "f0"}) {
      WireFormatException e =
          assertThrows(
              WireFormatException.class,
              () ->
                  decode(
                      "00 "
                          + b1
                          + " 00 00 00 00 00 00  00 00 00 00 00 00 00 00"
                          + "00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00"));
      assertEquals(
          "cannot decode an ioregionfd command: reserved bits 0x"
              + String.format("%02x", Integer.parseInt(b1, 16) & 0xe0)
              + " set in byte 1 (0x"
              + b1
              + ")",
          e.getMessage());
    }
  }

  @Test
  void nonZeroPaddingIsRejected() {
    for (int i = 2; i < 8; i++) {
      byte[] b = new byte[32];
      b[1] = 0x10;
      b[i] = 0x5a;
      WireFormatException e =
          assertThrows(
              WireFormatException.class, () -> IoregionCommand.decode(MemorySegment.ofArray(b)));
      assertEquals(
          "cannot decode an ioregionfd command: padding byte " + i + " is 0x5a, not 0",
          e.getMessage());
    }
  }

  @Test
  void shortSegmentsAndBadSizesAreRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> IoregionCommand.decode(MemorySegment.ofArray(new byte[31])));
    assertThrows(
        IllegalArgumentException.class,
        () -> IoregionCommand.read(0, 0, 4).encode(MemorySegment.ofArray(new byte[31])));
    assertThrows(IllegalArgumentException.class, () -> IoregionCommand.read(0, 0, 3));
    assertThrows(IllegalArgumentException.class, () -> IoregionCommand.read(0, 0, 16));
  }

  @Property
  void everyCommandRoundTrips(
      @ForAll boolean write,
      @ForAll @IntRange(min = 0, max = 3) int exponent,
      @ForAll boolean resp,
      @ForAll long userData,
      @ForAll long offset,
      @ForAll long data) {
    IoregionCommand c =
        new IoregionCommand(
            write ? Op.WRITE : Op.READ, 1 << exponent, resp, userData, offset, data);
    byte[] wire = encode(c);
    assertEquals(write ? 1 : 0, wire[0]);
    assertEquals(exponent | (resp ? 0x10 : 0), wire[1]);
    assertEquals(c, IoregionCommand.decode(MemorySegment.ofArray(wire)));
  }

  @Property
  void decodeEitherAcceptsAndReencodesExactlyOrRejects(@ForAll byte[] raw) {
    byte[] b = java.util.Arrays.copyOf(raw, 32);
    IoregionCommand c;
    try {
      c = IoregionCommand.decode(MemorySegment.ofArray(b));
    } catch (WireFormatException e) {
      return;
    }
    assertArrayEquals(b, encode(c));
  }
}
