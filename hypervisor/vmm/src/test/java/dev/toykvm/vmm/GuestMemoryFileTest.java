package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

class GuestMemoryFileTest {
  @Test
  void mapsZeroedPageAlignedMemoryAndUnlinksTheName() throws Exception {
    try (GuestMemoryFile mem = GuestMemoryFile.create("test", 64 * 1024)) {
      assertEquals(64 * 1024, mem.size());
      assertEquals(0, mem.segment().address() % 4096);
      assertEquals(0, mem.segment().get(ValueLayout.JAVA_LONG, 8));
      assertFalse(Files.exists(mem.createdAs()), "the name is unlinked right after mapping");
      assertTrue(mem.channel().isOpen(), "the file stays open for other processes");
    }
  }

  @Test
  void theFileAndTheMappingAreTheSameMemory() throws Exception {
    try (GuestMemoryFile mem = GuestMemoryFile.create("test", 8192)) {
      mem.segment().set(ValueLayout.JAVA_INT_UNALIGNED, 4100, 0xcafe_f00d);
      ByteBuffer b = ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      mem.channel().read(b, 4100);
      assertEquals(0xcafe_f00d, b.getInt(0));
      assertEquals(8192, mem.channel().size());
    }
  }

  @Test
  void closeUnmapsAndClosesTheFile() throws Exception {
    GuestMemoryFile mem = GuestMemoryFile.create("test", 4096);
    mem.close();
    assertFalse(mem.segment().scope().isAlive());
    assertFalse(mem.channel().isOpen());
    mem.close(); // idempotent
  }

  @Test
  void sizeMustBeWholePages() {
    assertThrows(IllegalArgumentException.class, () -> GuestMemoryFile.create("x", 0));
    assertThrows(IllegalArgumentException.class, () -> GuestMemoryFile.create("x", 4097));
  }

  @Test
  void memoryNoFileSystemHasRoomForIsAClearErrorThatLeavesNothing() throws Exception {
    long pib = 1L << 50;
    java.io.IOException e =
        assertThrows(java.io.IOException.class, () -> GuestMemoryFile.create("huge", pib));
    assertTrue(
        e.getMessage().startsWith("no file system has room for 1048576.0 GiB: "), e.getMessage());
    try (var left = Files.list(java.nio.file.Path.of("/dev/shm"))) {
      assertFalse(left.anyMatch(p -> p.getFileName().toString().startsWith("toykvm-huge-")));
    }
  }

  @Test
  void aLargeFileIsSparse() throws Exception {
    long size = 5L << 30;
    try (GuestMemoryFile mem = GuestMemoryFile.create("sparse", size)) {
      mem.segment().set(ValueLayout.JAVA_LONG, size - 8, -1L);
      mem.segment().set(ValueLayout.JAVA_LONG, 0, -1L);
      assertEquals(size, mem.channel().size());
      // st_blocks of the unlinked file (through /proc) says how much of it is allocated
      Process stat =
          new ProcessBuilder(
                  "stat",
                  "-L",
                  "-c",
                  "%b",
                  "/proc/" + ProcessHandle.current().pid() + "/fd/" + mem.fd())
              .redirectErrorStream(true)
              .start();
      String out = new String(stat.getInputStream().readAllBytes()).trim();
      assertEquals(0, stat.waitFor(), out);
      long blocks = Long.parseLong(out);
      assertTrue(blocks * 512 < 1L << 20, "allocated " + blocks * 512 + " bytes of " + size);
    }
  }
}
