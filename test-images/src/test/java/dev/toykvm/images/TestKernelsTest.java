package dev.toykvm.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The committed multiboot kernels are ELF32 i386 files with a valid multiboot v1 header. */
class TestKernelsTest {

  private static final int MULTIBOOT_MAGIC = 0x1badb002;
  private static final int MULTIBOOT_SEARCH = 8192;

  static List<String> multibootKernels() {
    return TestKernels.NAMES.stream().filter(n -> !TestKernels.LINUX.contains(n)).toList();
  }

  @Test
  void listsNvmetest() {
    assertTrue(TestKernels.NAMES.contains("nvmetest"), TestKernels.NAMES.toString());
    assertEquals("nvmetest.elf", TestKernels.fileName("nvmetest"));
  }

  @ParameterizedTest
  @MethodSource("multibootKernels")
  void isAnElf32KernelWithAMultibootHeader(String name) {
    ByteBuffer b = ByteBuffer.wrap(TestKernels.load(name)).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(0x464c457f, b.getInt(0), "ELF magic");
    assertEquals(1, b.get(4), "ELFCLASS32");
    assertEquals(2, b.getShort(16), "ET_EXEC");
    assertEquals(3, b.getShort(18), "EM_386");
    int found = -1;
    for (int at = 0; at + 12 <= Math.min(b.limit(), MULTIBOOT_SEARCH); at += 4) {
      if (b.getInt(at) == MULTIBOOT_MAGIC
          && b.getInt(at) + b.getInt(at + 4) + b.getInt(at + 8) == 0) {
        found = at;
        break;
      }
    }
    assertTrue(found >= 0, name + ": no multiboot header in its first 8 KiB");
  }
}
