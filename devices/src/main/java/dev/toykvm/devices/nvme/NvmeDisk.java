package dev.toykvm.devices.nvme;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.OptionalLong;

/**
 * The disk behind an NVMe namespace: a plain file of 512-byte logical blocks. Writes go straight to
 * the file (the host's page cache), so what the guest wrote survives a killed VM once the write
 * completed; {@link #flush} ({@code fsync}) makes it survive the host too.
 *
 * <p>Not thread-safe: the controller is its only user.
 */
public final class NvmeDisk implements AutoCloseable {

  /** Bytes in a logical block (the only format: SeaBIOS boots from nothing else). */
  public static final int BLOCK_SIZE = 512;

  /** The size a missing file is created at when no size is given: 64 MiB. */
  public static final long DEFAULT_SIZE = 64L << 20;

  private static final int ZERO_CHUNK = 64 << 10;

  private final Path file;
  private final FileChannel channel;
  private final long size;

  private NvmeDisk(Path file, FileChannel channel, long size) {
    this.file = file;
    this.channel = channel;
    this.size = size;
  }

  /**
   * Opens {@code file} for reading and writing, creating it (sparse, all zeros) at {@code size}
   * bytes, or {@link #DEFAULT_SIZE} without one, if it does not exist.
   *
   * @param size the disk's size in bytes: when given, a positive multiple of 512, and an existing
   *     file must have exactly this size
   * @throws IOException "cannot open NVMe disk FILE: why" if the file is a directory or not a
   *     regular file (a device, a FIFO), cannot be read and written, cannot be created, has the
   *     wrong size, or a size that is not a positive multiple of 512; a file this call created is
   *     deleted again
   */
  public static NvmeDisk open(Path file, OptionalLong size) throws IOException {
    if (size.isPresent()) {
      checkSize(file, size.getAsLong());
    }
    if (Files.isDirectory(file)) {
      throw failure(file, "it is a directory");
    }
    if (Files.exists(file) && !Files.isRegularFile(file)) {
      throw failure(file, "not a regular file (a disk is a file of 512-byte blocks)");
    }
    FileChannel ch = openExisting(file);
    return ch == null ? create(file, size.orElse(DEFAULT_SIZE)) : existing(file, ch, size);
  }

  /** The file opened for reading and writing, or {@code null} if it does not exist. */
  private static FileChannel openExisting(Path file) throws IOException {
    try {
      return FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (NoSuchFileException e) {
      return null;
    } catch (AccessDeniedException e) {
      throw failure(file, "permission denied (it must be readable and writable)");
    } catch (IOException e) {
      throw failure(file, reason(e));
    }
  }

  private static NvmeDisk existing(Path file, FileChannel ch, OptionalLong wanted)
      throws IOException {
    try {
      long actual = ch.size();
      if (wanted.isPresent() && wanted.getAsLong() != actual) {
        throw failure(
            file,
            "it is %d bytes, not the %d bytes asked for".formatted(actual, wanted.getAsLong()));
      }
      checkSize(file, actual);
      return new NvmeDisk(file, ch, actual);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  private static NvmeDisk create(Path file, long size) throws IOException {
    FileChannel ch;
    try {
      ch =
          FileChannel.open(
              file,
              StandardOpenOption.CREATE_NEW,
              StandardOpenOption.READ,
              StandardOpenOption.WRITE);
    } catch (FileAlreadyExistsException e) {
      throw failure(file, "it appeared while it was being created");
    } catch (AccessDeniedException e) {
      throw failure(file, "permission denied creating it");
    } catch (NoSuchFileException e) {
      throw failure(file, "its directory does not exist");
    } catch (IOException e) {
      throw failure(file, "cannot create it: " + reason(e));
    }
    try {
      ch.write(ByteBuffer.allocate(1), size - 1); // the last byte: the file is sparse up to it
      return new NvmeDisk(file, ch, size);
    } catch (IOException e) {
      ch.close();
      Files.deleteIfExists(file);
      throw failure(file, "cannot make it %d bytes: %s".formatted(size, reason(e)));
    }
  }

  private static void checkSize(Path file, long size) throws IOException {
    if (size <= 0 || size % BLOCK_SIZE != 0) {
      throw failure(
          file,
          "its size must be a positive multiple of %d bytes, not %d".formatted(BLOCK_SIZE, size));
    }
  }

  /**
   * Why an I/O call failed, without the file name a {@link FileSystemException}'s message starts
   * with (the failure names the file once).
   */
  private static String reason(IOException e) {
    if (e instanceof FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    return String.valueOf(e.getMessage());
  }

  private static IOException failure(Path file, String why) {
    return new IOException("cannot open NVMe disk " + file + ": " + why);
  }

  /** The file. */
  public Path file() {
    return file;
  }

  /** The size in bytes. */
  public long size() {
    return size;
  }

  /** The size in logical blocks. */
  public long blocks() {
    return size / BLOCK_SIZE;
  }

  /**
   * Reads {@code dst.length} bytes (a whole number of blocks) from block {@code lba}. Bytes past
   * the file's end (someone shortened it) read as zeros.
   *
   * @throws IllegalArgumentException if the range is not whole blocks inside the disk
   */
  public void read(long lba, byte[] dst) throws IOException {
    long pos = position(lba, dst.length);
    ByteBuffer b = ByteBuffer.wrap(dst);
    while (b.hasRemaining()) {
      if (channel.read(b, pos + b.position()) < 0) {
        while (b.hasRemaining()) {
          b.put((byte) 0);
        }
      }
    }
  }

  /**
   * Writes {@code src} (a whole number of blocks) at block {@code lba}.
   *
   * @throws IllegalArgumentException if the range is not whole blocks inside the disk
   */
  public void write(long lba, byte[] src) throws IOException {
    long pos = position(lba, src.length);
    ByteBuffer b = ByteBuffer.wrap(src);
    while (b.hasRemaining()) {
      channel.write(b, pos + b.position());
    }
  }

  /**
   * Writes {@code count} blocks of zeros from block {@code lba}.
   *
   * @throws IllegalArgumentException if the range is not inside the disk
   */
  public void writeZeroes(long lba, long count) throws IOException {
    if (count < 0 || count > blocks()) {
      throw new IllegalArgumentException("cannot write zeroes: %d blocks".formatted(count));
    }
    long pos = position(lba, 0);
    long end = pos + count * BLOCK_SIZE;
    if (end > size) {
      throw new IllegalArgumentException(
          "cannot write zeroes: blocks %d+%d are past the disk's %d"
              .formatted(lba, count, blocks()));
    }
    ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(ZERO_CHUNK, end - pos));
    while (pos < end) {
      zeros.clear().limit((int) Math.min(zeros.capacity(), end - pos));
      while (zeros.hasRemaining()) {
        pos += channel.write(zeros, pos);
      }
    }
  }

  /** Makes everything written so far durable ({@code fsync}). */
  public void flush() throws IOException {
    channel.force(true);
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  private long position(long lba, int length) {
    if (lba < 0
        || length % BLOCK_SIZE != 0
        || lba > blocks()
        || length / BLOCK_SIZE > blocks() - lba) {
      throw new IllegalArgumentException(
          "cannot access blocks %d+%d of a %d-block disk"
              .formatted(lba, length / BLOCK_SIZE, blocks()));
    }
    return lba * BLOCK_SIZE;
  }
}
