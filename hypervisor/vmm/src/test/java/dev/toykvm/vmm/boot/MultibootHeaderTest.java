package dev.toykvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class MultibootHeaderTest {
  static void putHeader(byte[] file, int offset, int flags, long... addresses) {
    ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(offset, MultibootHeader.MAGIC);
    b.putInt(offset + 4, flags);
    b.putInt(offset + 8, -(MultibootHeader.MAGIC + flags));
    for (int i = 0; i < addresses.length; i++) {
      b.putInt(offset + 12 + 4 * i, (int) addresses[i]);
    }
  }

  @Test
  void foundAlignedInTheFirst8KiBOnly() {
    byte[] file = new byte[16384];
    putHeader(file, 8176, MultibootHeader.MEMORY_INFO);
    assertEquals(8176, MultibootHeader.find(file).orElseThrow().offset());
    byte[] late = new byte[16384];
    putHeader(late, 8192, 0);
    assertTrue(MultibootHeader.find(late).isEmpty(), "past 8 KiB");
    byte[] unaligned = new byte[64];
    putHeader(unaligned, 2, 0);
    assertTrue(MultibootHeader.find(unaligned).isEmpty(), "not 4-byte aligned");
  }

  @Test
  void aBadChecksumIsNoHeader() {
    byte[] file = new byte[64];
    putHeader(file, 0, 0);
    file[8]++;
    assertTrue(MultibootHeader.find(file).isEmpty());
  }

  @Test
  void unknownRequiredFlagsAreRefusedAndOptionalOnesIgnored() {
    byte[] file = new byte[64];
    putHeader(file, 0, 1 << 5 | 1 << 20);
    BootFormatException e =
        assertThrows(
            BootFormatException.class,
            () -> MultibootHeader.find(file).orElseThrow().checkSupported());
    assertTrue(e.getMessage().contains("flags 0x20"), e.getMessage());
    putHeader(file, 0, MultibootHeader.PAGE_ALIGN | MultibootHeader.VIDEO_MODE | 1 << 20);
    MultibootHeader.find(file).orElseThrow().checkSupported();
  }

  @Test
  void theAoutKludgeLoadsWhatItsAddressesSay() {
    // The header sits 0x20 bytes into the text, which starts at file offset 0x10 (load 0x100000).
    byte[] file = new byte[0x100];
    for (int i = 0; i < file.length; i++) {
      file[i] = (byte) i;
    }
    putHeader(
        file, 0x30, MultibootHeader.AOUT_KLUDGE, 0x100020, 0x100000, 0x100080, 0x102000, 0x100040);
    MultibootHeader h = MultibootHeader.find(file).orElseThrow();
    assertEquals(0x100040, h.entryAddr());
    LoadSegment s = h.aoutSegment(file);
    assertEquals(0x100000, s.address());
    assertEquals(0x80, s.bytes().length);
    assertEquals(0x10, s.bytes()[0]);
    assertEquals(0x2000, s.memorySize());
  }

  @Test
  void contradictoryAoutAddressesAreRefused() {
    byte[] file = new byte[0x100];
    putHeader(file, 0, MultibootHeader.AOUT_KLUDGE, 0x100000, 0x100010, 0, 0, 0x100000);
    assertMessage("header_addr 0x100000 is below load_addr", file);
    putHeader(file, 0, MultibootHeader.AOUT_KLUDGE, 0x100100, 0x100000, 0, 0, 0x100000);
    assertMessage("before the file", file);
    putHeader(file, 0, MultibootHeader.AOUT_KLUDGE, 0x100000, 0x100000, 0x101000, 0, 0x100000);
    assertMessage("past the end of the file", file);
    putHeader(file, 0, MultibootHeader.AOUT_KLUDGE, 0x100000, 0x100000, 0x100080, 0x100040, 0);
    assertMessage("bss_end_addr", file);
  }

  private static void assertMessage(String part, byte[] file) {
    BootFormatException e =
        assertThrows(
            BootFormatException.class,
            () -> MultibootHeader.find(file).orElseThrow().aoutSegment(file));
    assertTrue(e.getMessage().contains(part), e.getMessage());
  }
}
