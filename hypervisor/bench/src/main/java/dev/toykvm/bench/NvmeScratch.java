package dev.toykvm.bench;

import dev.toykvm.images.TestKernels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.stream.Stream;

/**
 * The files one {@code toykvm bench nvme} needs, in a temporary directory deleted on close: the
 * nvmetest kernel and the disk, written whole with non-zero data (so every read is a real read of
 * file data from the page cache, not of a hole).
 */
final class NvmeScratch implements AutoCloseable {
  /** The disk's size: 64 MiB, 16 384 slots of 4 KiB for the random reads. */
  static final long DISK_SIZE = 64L << 20;

  private final Path dir;
  private final Path kernel;
  private final Path disk;

  private NvmeScratch(Path dir, Path kernel, Path disk) {
    this.dir = dir;
    this.kernel = kernel;
    this.disk = disk;
  }

  /**
   * @throws UncheckedIOException "cannot prepare the NVMe benchmark's files: why"; what was made is
   *     deleted again
   */
  static NvmeScratch create(long diskSize) {
    Path dir = null;
    try {
      dir = Files.createTempDirectory("toykvm-bench-nvme");
      Path kernel = TestKernels.extract("nvmetest", dir);
      Path disk = dir.resolve("disk.img");
      fill(disk, diskSize);
      return new NvmeScratch(dir, kernel, disk);
    } catch (IOException e) {
      deleteQuietly(dir);
      throw new UncheckedIOException("cannot prepare the NVMe benchmark's files: " + e, e);
    }
  }

  /** Writes {@code size} bytes, no zero byte among them: each byte names its offset. */
  static void fill(Path disk, long size) throws IOException {
    ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
    try (FileChannel ch =
        FileChannel.open(
            disk,
            StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE,
            StandardOpenOption.READ)) {
      for (long at = 0; at < size; ) {
        chunk.clear();
        int n = (int) Math.min(chunk.capacity(), size - at);
        for (int i = 0; i < n; i++) {
          long offset = at + i;
          chunk.put((byte) (1 + (offset ^ (offset >>> 12)) % 255));
        }
        chunk.flip();
        while (chunk.hasRemaining()) {
          at += ch.write(chunk, at);
        }
      }
    }
  }

  Path kernel() {
    return kernel;
  }

  Path disk() {
    return disk;
  }

  @Override
  public void close() {
    deleteQuietly(dir);
  }

  private static void deleteQuietly(Path dir) {
    if (dir == null) {
      return;
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        Files.deleteIfExists(f);
      }
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // Left in the temporary directory; nothing else to do.
    }
  }
}
