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
}
