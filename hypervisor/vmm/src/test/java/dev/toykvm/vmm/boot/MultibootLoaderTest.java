package dev.toykvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class MultibootLoaderTest {
  static final List<E820Entry> MAP = PcMemoryMap.of(128L << 20);

  /** An ELF32 kernel with a multiboot header at the start of its code, loaded at {@code paddr}. */
  static byte[] kernel(long paddr, int bss) {
    byte[] code = new byte[64];
    MultibootHeaderTest.putHeader(
        code, 0, MultibootHeader.PAGE_ALIGN | MultibootHeader.MEMORY_INFO);
    code[12] = (byte) 0xf4; // hlt
    return ElfTest.elf32(paddr, paddr, code, bss, paddr + 12);
  }

  @Test
  void placesTheKernelModulesInfoAndGdt() {
    byte[] k = kernel(0x100000, 0x3000);
    BootPlan plan =
        MultibootLoader.plan(
            k,
            "k.elf console=ttyS0",
            List.of(new MultibootLoader.ModuleFile("m1 a b", new byte[] {1, 2, 3})),
            MAP);
    assertEquals(0x10000c, plan.entry());
    assertEquals(MultibootLoader.INFO_BASE, plan.infoAddress());
    LoadSegment kernel = plan.pieces().get(0);
    assertEquals(0x100000, kernel.address());
    assertEquals(64 + 0x3000, kernel.memorySize());
    LoadSegment module = plan.pieces().get(1);
    assertEquals(0x104000, module.address(), "the first page above the kernel and its bss");
    LoadSegment info = plan.pieces().get(2);
    assertEquals(MultibootLoader.INFO_BASE, info.address());
    assertTrue(info.end() <= PcMemoryMap.EBDA);
    ByteBuffer b = ByteBuffer.wrap(info.bytes()).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(1, b.getInt(20), "mods_count");
    int mods = b.getInt(24) - (int) MultibootLoader.INFO_BASE;
    assertEquals(0x104000, b.getInt(mods));
    assertEquals(0x104003, b.getInt(mods + 4));
    assertEquals(MultibootLoader.GDT_BASE, plan.pieces().get(3).address());
  }

  @Test
  void aoutKludgeLoadsWhereTheHeaderSays() {
    byte[] file = new byte[0x200];
    MultibootHeaderTest.putHeader(
        file,
        0,
        MultibootHeader.AOUT_KLUDGE | MultibootHeader.MEMORY_INFO,
        0x200000,
        0x200000,
        0,
        0x201000,
        0x200020);
    BootPlan plan = MultibootLoader.plan(file, "", List.of(), MAP);
    assertEquals(0x200020, plan.entry());
    assertEquals(0x200000, plan.pieces().getFirst().address());
    assertEquals(0x1000, plan.pieces().getFirst().memorySize());
  }

  static Stream<Arguments> badKernels() {
    byte[] elf64 = kernel(0x100000, 0).clone();
    elf64[4] = 2; // ELFCLASS64: the parser then finds the wrong machine or sizes
    byte[] noHeader = ElfTest.elf32(0x100000, 0x100000, new byte[64], 0, 0x100000);
    byte[] notElf = new byte[100];
    byte[] aoutNoKludge = new byte[100];
    MultibootHeaderTest.putHeader(aoutNoKludge, 0, MultibootHeader.MEMORY_INFO);
    byte[] unknownFlag = new byte[64];
    MultibootHeaderTest.putHeader(unknownFlag, 0, 1 << 5);
    byte[] unknownFlagElf = ElfTest.elf32(0x100000, 0x100000, unknownFlag, 0, 0x100000);
    return Stream.of(
        Arguments.of("64-bit", real64(), "it is a 64-bit ELF file"),
        Arguments.of("no header", noHeader, "no multiboot header in the first 8 KiB"),
        Arguments.of("not ELF, no header", notElf, "no multiboot header in the first 8 KiB"),
        Arguments.of("not ELF, no a.out", aoutNoKludge, "not an ELF file, and its multiboot"),
        Arguments.of("flag", unknownFlagElf, "requires multiboot features"),
        Arguments.of(
            "above RAM", kernel(0x8000000, 0), "segment [0x8000000, 0x8000040) outside RAM"),
        Arguments.of(
            "in the VGA hole", kernel(0xb8000, 0), "segment [0xb8000, 0xb8040) outside RAM"),
        Arguments.of(
            "bss past RAM",
            kernel(0x7fff000, 0x2000),
            "segment [0x7fff000, 0x8001040) outside RAM"),
        Arguments.of("over the loader", kernel(0x9000, 0), "overlaps the loader's GDT"),
        Arguments.of("class garbage", elf64, "ELF"));
  }

  /** A minimal valid ELF64 x86-64 executable with a multiboot header. */
  static byte[] real64() {
    ByteBuffer b = ByteBuffer.allocate(0x200).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1});
    b.putShort(16, (short) 2);
    b.putShort(18, (short) 62);
    b.putInt(20, 1);
    b.putLong(24, 0x100000);
    b.putLong(32, 64);
    b.putShort(54, (short) 56);
    b.putShort(56, (short) 1);
    b.putInt(64, 1); // PT_LOAD
    b.putLong(64 + 8, 0x100);
    b.putLong(64 + 16, 0x100000);
    b.putLong(64 + 24, 0x100000);
    b.putLong(64 + 32, 0x40);
    b.putLong(64 + 40, 0x40);
    byte[] file = b.array();
    MultibootHeaderTest.putHeader(file, 0x100, MultibootHeader.MEMORY_INFO);
    return file;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badKernels")
  void badKernelsSayWhatIsWrong(String name, byte[] file, String message) {
    BootFormatException e =
        assertThrows(
            BootFormatException.class, () -> MultibootLoader.plan(file, "", List.of(), MAP));
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }

  @Test
  void aModuleOutsideRamIsRefused() {
    byte[] k = kernel(0x7ffe000, 0);
    BootFormatException e =
        assertThrows(
            BootFormatException.class,
            () ->
                MultibootLoader.plan(
                    k, "", List.of(new MultibootLoader.ModuleFile("m", new byte[0x2000])), MAP));
    assertEquals("module \"m\" [0x7fff000, 0x8001000) outside RAM", e.getMessage());
  }

  @Test
  void anInformationBlockTooBigForLowMemoryIsRefused() {
    BootFormatException e =
        assertThrows(
            BootFormatException.class,
            () -> MultibootLoader.plan(kernel(0x100000, 0), "x".repeat(700_000), List.of(), MAP));
    assertTrue(e.getMessage().contains("does not fit in low memory"), e.getMessage());
  }
}
