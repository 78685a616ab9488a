package dev.toykvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class ElfTest {
  /** An ELF32 i386 executable: one PT_LOAD of {@code code} at vaddr/paddr, memsz code+bss. */
  static byte[] elf32(long vaddr, long paddr, byte[] code, int bss, long entry) {
    int phoff = 52;
    int dataOff = 0x100;
    ByteBuffer b = ByteBuffer.allocate(dataOff + code.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {0x7f, 'E', 'L', 'F', 1, 1, 1});
    b.putShort(16, (short) 2); // ET_EXEC
    b.putShort(18, (short) 3); // EM_386
    b.putInt(20, 1);
    b.putInt(24, (int) entry);
    b.putInt(28, phoff);
    b.putShort(40, (short) 52);
    b.putShort(42, (short) 32);
    b.putShort(44, (short) 2);
    // a PT_NOTE first, which the loader skips
    b.putInt(phoff, 4);
    int ph = phoff + 32;
    b.putInt(ph, 1); // PT_LOAD
    b.putInt(ph + 4, dataOff);
    b.putInt(ph + 8, (int) vaddr);
    b.putInt(ph + 12, (int) paddr);
    b.putInt(ph + 16, code.length);
    b.putInt(ph + 20, code.length + bss);
    b.put(dataOff, code);
    return b.array();
  }

  @Test
  void loadsPtLoadAtItsPhysicalAddress() {
    byte[] code = {(byte) 0xf4, (byte) 0x90};
    Elf e = Elf.parse(elf32(0xc0100000L, 0x100000, code, 0x1000, 0xc0100001L));
    assertEquals(false, e.is64());
    assertEquals(1, e.segments().size());
    LoadSegment s = e.segments().getFirst();
    assertEquals(0x100000, s.address());
    assertArrayEquals(code, s.bytes());
    assertEquals(0x1002, s.memorySize());
    assertEquals(0x100001, e.physicalEntry(), "a virtual entry moves with its segment");
  }

  @Test
  void malformedFilesSayWhatIsWrong() {
    byte[] good = elf32(0x400000, 0x400000, new byte[16], 0, 0x400000);
    assertMessage("not an ELF file", new byte[] {1, 2, 3});
    byte[] cls = good.clone();
    cls[4] = 3;
    assertMessage("unknown ELF class 3", cls);
    byte[] big = good.clone();
    big[5] = 2;
    assertMessage("not a little-endian", big);
    byte[] arm = good.clone();
    arm[18] = 40;
    assertMessage("ELF machine 40 is not i386", arm);
    byte[] cut = java.util.Arrays.copyOf(good, 0x100 + 8);
    assertMessage("lies outside the", cut);
    assertMessage("truncated ELF header", java.util.Arrays.copyOf(good, 40));
  }

  private static void assertMessage(String part, byte[] file) {
    BootFormatException e = assertThrows(BootFormatException.class, () -> Elf.parse(file));
    assertTrue(e.getMessage().contains(part), e.getMessage());
  }

  @Property(tries = 3000)
  void anyCorruptionIsABootFormatExceptionOrAValidResult(
      @ForAll @IntRange(min = 0, max = 0x10f) int at,
      @ForAll byte value,
      @ForAll @IntRange(min = 0, max = 0x120) int length) {
    byte[] file = elf32(0x400000, 0x400000, new byte[16], 0, 0x400000);
    file[at] = value;
    byte[] cut = java.util.Arrays.copyOf(file, Math.min(length, file.length));
    try {
      Elf.parse(cut);
    } catch (BootFormatException expected) {
      // a clear message is all that is asked
    }
  }

  @Property(tries = 500)
  void randomBytesNeverThrowAnythingElse(@ForAll @Size(max = 200) byte[] tail) {
    byte[] file = new byte[4 + tail.length];
    file[0] = 0x7f;
    file[1] = 'E';
    file[2] = 'L';
    file[3] = 'F';
    System.arraycopy(tail, 0, file, 4, tail.length);
    try {
      Elf.parse(file);
    } catch (BootFormatException expected) {
      // fine
    }
  }
}
