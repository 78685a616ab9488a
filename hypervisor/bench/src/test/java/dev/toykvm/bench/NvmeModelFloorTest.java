package dev.toykvm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NvmeModelFloorTest {

  @Test
  void everyReadThroughTheModelCompletesAndIsCounted(@TempDir Path dir) throws IOException {
    Path disk = dir.resolve("disk.img");
    NvmeScratch.fill(disk, 1 << 20);

    // 200 reads wrap the 64-entry queues three times: the phase tag flips are exercised.
    NvmeModelFloor.Floors f = NvmeModelFloor.measure(disk, 200, 10);

    assertEquals(200, f.model().getTotalCount());
    assertEquals(200, f.pread().getTotalCount());
    assertTrue(f.model().getValueAtPercentile(50) > 0);
    assertTrue(f.pread().getValueAtPercentile(50) > 0);
  }

  @Test
  void aMissingDiskIsACannotMessage(@TempDir Path dir) {
    // NvmeDisk.open would create it: a directory stands in for a disk that cannot be opened.
    UncheckedIOException e =
        assertThrows(UncheckedIOException.class, () -> NvmeModelFloor.measure(dir, 1, 0));
    assertTrue(e.getMessage().startsWith("cannot measure the NVMe model"), e.getMessage());
  }
}
