package dev.toykvm.devices;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.devices.GuestRam.Range;
import dev.toykvm.posix.Fds;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestRamTest {

  /** A PC's RAM of 2 MiB: below 0xa0000, then from 1 MiB; file offset = address. */
  private static final List<Range> PC =
      List.of(new Range(0, 0xa0000, 0), new Range(0x100000, 0x100000, 0x100000));

  @Test
  void aLayoutReadsBackAsItIsWritten() {
    String text = GuestRam.formatLayout(PC);
    assertEquals("0x0:0xa0000:0x0+0x100000:0x100000:0x100000", text);
    assertEquals(PC, GuestRam.parseLayout(text));
    assertEquals(
        List.of(new Range(0, 4096, 8192), new Range(1L << 32, 4096, 0)),
        GuestRam.parseLayout("4294967296:4096:0+0:0x1000:8192"),
        "decimal or hex, sorted by address");
  }

  @Test
  void aBadLayoutSaysWhy() {
    assertTrue(bad("").contains("is not GPA:SIZE:OFFSET"));
    assertTrue(bad("0:0x1000").contains("'0:0x1000' is not GPA:SIZE:OFFSET"));
    assertTrue(bad("0:x:0").contains("'x' is not a number"));
    assertTrue(bad("99999999999999999999:1:0").contains("does not fit in 64 bits"));
    assertTrue(bad("0:0:0").contains("size must be positive"));
    assertTrue(bad("0:0x2000:0+0x1000:0x1000:0").contains("overlap"));
    assertTrue(bad("0xfffffffffffff000:0x2000:0").contains("passes 2^64"));
  }

  private static String bad(String layout) {
    return assertThrows(IllegalArgumentException.class, () -> GuestRam.parseLayout(layout))
        .getMessage();
  }

  @Test
  void onlyWholeAccessesInsideOneRangeMoveBytes() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment file = arena.allocate(0x200000);
      GuestRam ram = GuestRam.over(file, PC);
      byte[] four = {1, 2, 3, 4};
      assertTrue(ram.write(0x9fffc, four), "the last 4 bytes below the hole");
      assertEquals(0x04030201, file.get(ValueLayout.JAVA_INT_UNALIGNED, 0x9fffc));
      assertFalse(ram.write(0x9fffd, four), "the last byte is in the hole");
      assertEquals(0x04, file.get(ValueLayout.JAVA_BYTE, 0x9ffff), "nothing moved");
      assertFalse(ram.write(0xc0000, four), "the hole");
      assertFalse(ram.write(0x1ffffe, four), "past the end of RAM");
      assertTrue(ram.write(0x1ffffc, four));
      byte[] got = new byte[4];
      assertTrue(ram.read(0x1ffffc, got));
      assertArrayEquals(four, got);
      assertFalse(ram.read(-1, got), "2^64 - 1");
      assertTrue(ram.read(0x1234, new byte[0]), "nothing to move");
    }
  }

  @Test
  void noAccessWrapsAround2To64() {
    try (Arena arena = Arena.ofConfined()) {
      // RAM at the very top of the 64-bit space and at 0: an access from the top that wraps would
      // land in the low range if bounds were checked with signed or wrapping arithmetic.
      List<Range> layout =
          List.of(new Range(0xffff_ffff_ffff_f000L, 0x1000, 0), new Range(0, 0x1000, 0x1000));
      GuestRam ram = GuestRam.over(arena.allocate(0x2000), layout);
      assertTrue(ram.write(0xffff_ffff_ffff_fffcL, new byte[4]));
      assertFalse(ram.write(0xffff_ffff_ffff_fffeL, new byte[4]), "wraps to 0");
      assertFalse(ram.read(0xffff_ffff_ffff_ffffL, new byte[2]));
      assertFalse(ram.read(0x7fff_ffff_ffff_fffeL, new byte[4]));
      assertFalse(ram.read(0x8000_0000_0000_0000L, new byte[4]));
      assertTrue(ram.read(0xffc, new byte[4]));
      assertFalse(ram.read(0xffe, new byte[4]));
    }
  }

  @Test
  void adjacentRangesStillDoNotJoin() {
    try (Arena arena = Arena.ofConfined()) {
      GuestRam ram =
          GuestRam.over(
              arena.allocate(0x2000),
              List.of(new Range(0, 0x1000, 0x1000), new Range(0x1000, 0x1000, 0)));
      assertFalse(ram.write(0xffe, new byte[4]), "two file places: one access is one range");
      assertTrue(ram.write(0xffc, new byte[4]));
    }
  }

  @Property(tries = 300)
  void anAccessMovesBytesExactlyWhenEveryByteIsRam(
      @ForAll @LongRange(min = 0x9f000, max = 0x101100) long addr,
      @ForAll @IntRange(min = 1, max = 0x3000) int length) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment file = arena.allocate(0x200000);
      boolean allRam = true;
      for (long a = addr; a < addr + length; a++) {
        allRam &= a < 0xa0000 || (a >= 0x100000 && a < 0x200000);
      }
      byte[] data = new byte[length];
      java.util.Arrays.fill(data, (byte) 0x5a);
      assertEquals(allRam, GuestRam.over(file, PC).write(addr, data));
      long written = 0;
      for (long i = 0x9e000; i < 0x106000; i++) {
        written += file.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0;
      }
      assertEquals(allRam ? length : 0, written);
    }
  }

  @Test
  void mapsAFileByItsFdSharedWithWhoeverElseMapsIt(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("ram");
    Files.write(file, new byte[0x3000]);
    int fd = Fds.open(file.toString(), Fds.O_RDWR);
    try (GuestRam ram =
        GuestRam.map(fd, List.of(new Range(0x10000, 0x1000, 0x2000), new Range(0, 0x1000, 0)))) {
      assertTrue(ram.write(0x10ff8, "dma-done".getBytes()));
      assertTrue(ram.write(0, "low".getBytes()));
    } finally {
      Fds.close(fd);
    }
    byte[] bytes = Files.readAllBytes(file);
    assertEquals("dma-done", new String(bytes, 0x2ff8, 8));
    assertEquals("low", new String(bytes, 0, 3));
  }

  /**
   * A PC with 5 GiB: 3 GiB below the PCI hole, 2 GiB from 4 GiB, file offset = address, in a sparse
   * file (nothing is written but the bytes the test moves). The last byte of RAM is reachable, the
   * first byte past it and the hole are not, and 4 GiB + x is not x.
   */
  @Test
  void ramAbove4GiBIsReachedAtItsOwnFileOffset(@TempDir Path dir) throws IOException {
    long g = 1L << 30;
    Path file = dir.resolve("ram");
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(file.toFile(), "rw")) {
      f.setLength(6 * g);
    }
    int fd = Fds.open(file.toString(), Fds.O_RDWR);
    try (GuestRam ram =
        GuestRam.map(
            fd,
            GuestRam.parseLayout(
                "0x0:0xa0000:0x0+0x100000:0xbff00000:0x100000+0x100000000:0x80000000:0x100000000"))) {
      assertTrue(ram.write(4 * g + 0x1000, "high".getBytes()));
      assertTrue(ram.write(0x1000, "low!".getBytes()));
      assertTrue(ram.write(6 * g - 1, new byte[] {0x5a}));
      assertFalse(ram.write(6 * g, new byte[] {1}), "past the end of RAM");
      assertFalse(ram.write(3 * g, new byte[] {1}), "the PCI hole");
      assertFalse(ram.write(4 * g - 2, new byte[] {1, 2, 3, 4}), "into RAM from the hole");
      byte[] back = new byte[4];
      assertTrue(ram.read(4 * g + 0x1000, back));
      assertEquals("high", new String(back));
      assertTrue(ram.read(0x1000, back));
      assertEquals("low!", new String(back));
    } finally {
      Fds.close(fd);
    }
    try (java.nio.channels.FileChannel c = java.nio.channels.FileChannel.open(file)) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4);
      c.read(b, 4 * g + 0x1000);
      assertEquals("high", new String(b.array()));
      b.clear().limit(1);
      c.read(b, 6 * g - 1);
      assertEquals(0x5a, b.get(0));
    }
  }

  @Test
  void mappingPastTheFileOrAnFdNotOpenSaysWhy(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("ram");
    Files.write(file, new byte[0x1000]);
    int fd = Fds.open(file.toString(), Fds.O_RDWR);
    try {
      IOException e =
          assertThrows(IOException.class, () -> GuestRam.map(fd, List.of(new Range(0, 0x2000, 0))));
      assertTrue(e.getMessage().contains("has only 0x1000 bytes"), e.getMessage());
    } finally {
      Fds.close(fd);
    }
    IOException e =
        assertThrows(IOException.class, () -> GuestRam.map(999_999, List.of(new Range(0, 1, 0))));
    assertEquals("cannot map guest RAM: fd 999999 is not open", e.getMessage());
  }
}
