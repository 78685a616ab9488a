package dev.toykvm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NvmeScratchTest {

  @Test
  void theDiskIsWrittenWholeWithNoZeroByteAndEverythingGoesOnClose() throws IOException {
    Path dir;
    try (NvmeScratch s = NvmeScratch.create(3 << 20)) {
      dir = s.disk().getParent();
      byte[] disk = Files.readAllBytes(s.disk());
      assertEquals(3 << 20, disk.length);
      for (int i = 0; i < disk.length; i++) {
        if (disk[i] == 0) {
          throw new AssertionError("byte " + i + " is zero");
        }
      }
      assertTrue(Files.size(s.kernel()) > 0);
      assertEquals(dir, s.kernel().getParent());
    }
    assertFalse(Files.exists(dir), dir + " left behind");
  }

  @Test
  void aDiskSizeNotWholeMegabytesIsFilledToTheByte(@TempDir Path dir) throws IOException {
    Path disk = dir.resolve("d.img");
    NvmeScratch.fill(disk, (1 << 20) + 512);
    assertEquals((1 << 20) + 512, Files.size(disk));
  }

  @Test
  void fillNeverOverwritesAnExistingFile(@TempDir Path dir) throws IOException {
    Path disk = Files.writeString(dir.resolve("d.img"), "keep");
    assertThrows(FileAlreadyExistsException.class, () -> NvmeScratch.fill(disk, 4096));
    assertEquals("keep", Files.readString(disk));
  }
}
