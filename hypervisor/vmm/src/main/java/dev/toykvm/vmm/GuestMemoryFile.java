package dev.toykvm.vmm;

import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.PosixException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Guest memory as a shared mapping of a file, so that other processes (device processes doing DMA)
 * can map the same memory later.
 *
 * <p>The file is created under {@code /dev/shm} (or {@code java.io.tmpdir} when that is missing or
 * has less room free than the memory's size; if neither has, creating it fails: the file is sparse,
 * but a guest that writes all of its RAM would otherwise fill the file system and die of SIGBUS),
 * mapped read-write and shared with an {@link Arena} this object owns, and its name is unlinked at
 * once: nothing is left behind even if the JVM dies. A plain fd for the same file ({@link #fd()},
 * opened before the unlink) is kept open for handing guest memory to a device process that does DMA
 * (its launcher passes it as an inherited fd). Closing this object unmaps the memory and closes the
 * channel and the fd; the VM using the memory, and the device processes, must be closed first.
 */
public final class GuestMemoryFile implements AutoCloseable {
  private static final Path SHM = Path.of("/dev/shm");

  private final Arena arena;
  private final FileChannel channel;
  private final MemorySegment segment;
  private final Path createdAs;
  private final int fd;
  private boolean fdClosed;

  private GuestMemoryFile(
      Arena arena, FileChannel channel, MemorySegment segment, Path path, int fd) {
    this.arena = arena;
    this.channel = channel;
    this.segment = segment;
    this.createdAs = path;
    this.fd = fd;
  }

  /**
   * Creates and maps {@code size} bytes of zeroed shared memory.
   *
   * @param purpose a word for the file name, e.g. {@code "ram"}
   * @param size bytes, a positive multiple of the page size
   * @throws IllegalArgumentException if {@code size} is not a positive multiple of 4 KiB
   * @throws IOException if no directory has room for {@code size} bytes, or the file cannot be
   *     created, sized or mapped
   */
  public static GuestMemoryFile create(String purpose, long size) throws IOException {
    if (size <= 0 || size % KvmConstants.PAGE_SIZE != 0) {
      throw new IllegalArgumentException(
          "guest memory must be a positive multiple of 4 KiB, not " + size + " bytes");
    }
    List<Path> candidates = new ArrayList<>();
    if (Files.isDirectory(SHM) && Files.isWritable(SHM)) {
      candidates.add(SHM);
    }
    candidates.add(Path.of(System.getProperty("java.io.tmpdir")));
    Path dir = directoryFor(size, candidates);
    Path path = Files.createTempFile(dir, "toykvm-" + purpose + "-", ".mem");
    FileChannel channel = null;
    int fd = -1;
    Arena arena = Arena.ofShared();
    try {
      channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
      // Mapping past the end of the file extends it (sparsely): the memory starts zeroed.
      MemorySegment segment;
      try {
        segment = channel.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
      } catch (IOException e) {
        throw new IOException(
            "cannot map %s of guest memory (%s): %s".formatted(human(size), path, e.getMessage()),
            e);
      }
      fd = Fds.open(path.toString(), Fds.O_RDWR);
      Files.delete(path);
      return new GuestMemoryFile(arena, channel, segment, path, fd);
    } catch (IOException | RuntimeException e) {
      arena.close();
      if (channel != null) {
        channel.close();
      }
      if (fd >= 0) {
        Fds.close(fd);
      }
      if (e instanceof PosixException p) {
        Files.deleteIfExists(path);
        throw new IOException("cannot open guest memory " + path + ": " + p.getMessage(), p);
      }
      Files.deleteIfExists(path);
      throw e;
    }
  }

  /**
   * The first of {@code candidates} whose file system has {@code size} bytes free for this user.
   *
   * @throws IOException if none has, naming what each has
   */
  static Path directoryFor(long size, List<Path> candidates) throws IOException {
    List<String> room = new ArrayList<>();
    for (Path dir : candidates) {
      long free = Files.getFileStore(dir).getUsableSpace();
      if (free >= size) {
        return dir;
      }
      room.add(dir + " has " + human(free));
    }
    throw new IOException(
        "no file system has room for %s: %s free (the file is sparse, but the guest may fill it)"
            .formatted(human(size), String.join(", ", room)));
  }

  /** Bytes in MiB, or GiB with one decimal from 1 GiB. */
  static String human(long bytes) {
    return bytes >= 1L << 30
        ? "%.1f GiB".formatted(bytes / (double) (1L << 30))
        : "%d MiB".formatted(bytes >> 20);
  }

  /** The mapping: page-aligned, {@link #size()} bytes, valid until {@link #close()}. */
  public MemorySegment segment() {
    return segment;
  }

  /** The size in bytes. */
  public long size() {
    return segment.byteSize();
  }

  /** The open file (already unlinked), for handing guest memory to another process. */
  public FileChannel channel() {
    return channel;
  }

  /**
   * A plain fd for the file (read-write, close-on-exec), valid until {@link #close()}: what a
   * device launcher passes to a device process that maps guest memory for DMA.
   */
  public int fd() {
    return fd;
  }

  /** The name the file had before it was unlinked, for messages. */
  public Path createdAs() {
    return createdAs;
  }

  /** Unmaps the memory and closes the file. Idempotent. */
  @Override
  public void close() throws IOException {
    if (arena.scope().isAlive()) {
      arena.close();
    }
    channel.close();
    synchronized (this) {
      if (!fdClosed) {
        fdClosed = true;
        Fds.close(fd);
      }
    }
  }
}
