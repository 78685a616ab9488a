package dev.toykvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class MultibootInfoTest {
  private static final long BASE = 0x9000;

  private static String string(ByteBuffer b, long address) {
    int at = (int) (address - BASE);
    int end = at;
    while (b.get(end) != 0) {
      end++;
    }
    byte[] s = new byte[end - at];
    b.get(at, s);
    return new String(s, StandardCharsets.UTF_8);
  }

  @Test
  void everyFieldAKernelReadsPointsWhereItShould() {
    List<E820Entry> map =
        List.of(
            new E820Entry(0, 0x9fc00, E820Entry.RAM),
            new E820Entry(0x9fc00, 0x400, E820Entry.RESERVED),
            new E820Entry(0xf0000, 0x10000, E820Entry.RESERVED),
            new E820Entry(0x100000, 0x7f00000, E820Entry.RAM));
    byte[] info =
        MultibootInfo.build(
            BASE,
            map,
            "console=ttyS0 quiet",
            List.of(new MultibootInfo.Module(0x800000, 0x801234, "initrd.img arg")),
            "toykvm");
    ByteBuffer b = ByteBuffer.wrap(info).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(1 | 1 << 2 | 1 << 3 | 1 << 6 | 1 << 9, b.getInt(0));
    assertEquals(639, b.getInt(4), "mem_lower in KiB");
    assertEquals(0x7f00000 / 1024, b.getInt(8), "mem_upper in KiB");
    assertEquals("console=ttyS0 quiet", string(b, b.getInt(16)));
    assertEquals(1, b.getInt(20));
    int mod = (int) (b.getInt(24) - BASE);
    assertEquals(0x800000, b.getInt(mod));
    assertEquals(0x801234, b.getInt(mod + 4));
    assertEquals("initrd.img arg", string(b, b.getInt(mod + 8)));
    assertEquals(4 * 24, b.getInt(44), "mmap_length");
    int mmap = (int) (b.getInt(48) - BASE);
    assertEquals(20, b.getInt(mmap + 24 * 3));
    assertEquals(0x100000, b.getLong(mmap + 24 * 3 + 4));
    assertEquals(0x7f00000, b.getLong(mmap + 24 * 3 + 12));
    assertEquals(E820Entry.RAM, b.getInt(mmap + 24 * 3 + 20));
    assertEquals("toykvm", string(b, b.getInt(64)));
  }

  @Test
  void upperMemoryStopsAtTheFirstHole() {
    List<E820Entry> map =
        List.of(
            new E820Entry(0x100000, 0x100000, E820Entry.RAM),
            new E820Entry(0x200000, 0x100000, E820Entry.RAM),
            new E820Entry(0x400000, 0x100000, E820Entry.RAM));
    assertEquals(0x200000, MultibootInfo.upperMemory(map));
    assertEquals(0, MultibootInfo.lowerMemory(map));
  }

  @Test
  void ramAbove4GiBIsA64BitEntryOfTheMemoryMap() {
    long g = 1L << 30;
    List<E820Entry> map = PcMemoryMap.of(32 * g);
    ByteBuffer b =
        ByteBuffer.wrap(MultibootInfo.build(BASE, map, "", List.of(), "toykvm"))
            .order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(5 * 24, b.getInt(44), "mmap_length");
    int last = (int) (b.getInt(48) - BASE) + 24 * 4;
    assertEquals(20, b.getInt(last), "size");
    assertEquals(0x1_0000_0000L, b.getLong(last + 4), "base_addr, both halves");
    assertEquals(29 * g, b.getLong(last + 12), "length, both halves");
    assertEquals(E820Entry.RAM, b.getInt(last + 20));
    assertEquals((int) ((3 * g - 0x100000) / 1024), b.getInt(8), "mem_upper: below the hole only");
  }
}
