package dev.toykvm.devices.nvme;

import static dev.toykvm.devices.nvme.HostDriver.DATA;
import static dev.toykvm.devices.nvme.HostDriver.rw;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NvmeDiskTest {
  @TempDir Path dir;

  @Test
  void aMissingFileIsCreatedAtTheSizeAsked() throws IOException {
    Path f = dir.resolve("new.img");
    try (NvmeDisk d = NvmeDisk.open(f, OptionalLong.of(1 << 20))) {
      assertEquals(1 << 20, d.size());
      assertEquals(2048, d.blocks());
      assertEquals(1 << 20, Files.size(f));
      byte[] b = new byte[512];
      d.read(2047, b);
      assertArrayEquals(new byte[512], b);
    }
  }

  @Test
  void aMissingFileWithoutASizeIsCreatedAtTheDefault() throws IOException {
    Path f = dir.resolve("default.img");
    try (NvmeDisk d = NvmeDisk.open(f, OptionalLong.empty())) {
      assertEquals(64L << 20, d.size());
      assertEquals(NvmeDisk.DEFAULT_SIZE, Files.size(f));
    }
  }

  @Test
  void anExistingFileKeepsItsSizeAndContents() throws IOException {
    Path f = dir.resolve("old.img");
    byte[] contents = new byte[4096];
    new Random(1).nextBytes(contents);
    Files.write(f, contents);
    try (NvmeDisk d = NvmeDisk.open(f, OptionalLong.empty())) {
      assertEquals(8, d.blocks());
      byte[] b = new byte[1024];
      d.read(3, b);
      assertArrayEquals(Arrays.copyOfRange(contents, 1536, 2560), b);
    }
    NvmeDisk.open(f, OptionalLong.of(4096)).close();
  }

  private static String failure(Path f, OptionalLong size) {
    return assertThrows(IOException.class, () -> NvmeDisk.open(f, size)).getMessage();
  }

  @Test
  void badSizesAndFilesAreRefusedWithAReason() throws IOException {
    Path f = dir.resolve("x.img");
    assertEquals(
        "cannot open NVMe disk "
            + f
            + ": its size must be a positive multiple of 512 bytes, not 1000",
        failure(f, OptionalLong.of(1000)));
    assertEquals(
        "cannot open NVMe disk " + f + ": its size must be a positive multiple of 512 bytes, not 0",
        failure(f, OptionalLong.of(0)));
    assertFalse(Files.exists(f), "nothing created");
    Files.write(f, new byte[1000]);
    assertEquals(
        "cannot open NVMe disk "
            + f
            + ": its size must be a positive multiple of 512 bytes, not 1000",
        failure(f, OptionalLong.empty()));
    Files.write(f, new byte[1024]);
    assertEquals(
        "cannot open NVMe disk " + f + ": it is 1024 bytes, not the 2048 bytes asked for",
        failure(f, OptionalLong.of(2048)));
    assertEquals(
        "cannot open NVMe disk " + dir + ": it is a directory", failure(dir, OptionalLong.empty()));
    Path orphan = dir.resolve("no/such/dir/d.img");
    assertEquals(
        "cannot open NVMe disk " + orphan + ": its directory does not exist",
        failure(orphan, OptionalLong.of(512)));
  }

  /** The file is named once, the system's reason after it (not "FILE: FILE: Not a directory"). */
  @Test
  void aPathThroughAFileOrALoopNamesTheFileOnce() throws IOException {
    Path plain = Files.write(dir.resolve("plain"), new byte[512]);
    Path under = plain.resolve("d.img");
    assertEquals(
        "cannot open NVMe disk " + under + ": Not a directory",
        failure(under, OptionalLong.empty()));
    Path loop = Files.createSymbolicLink(dir.resolve("loop"), dir.resolve("loop"));
    String m = failure(loop, OptionalLong.empty());
    assertTrue(m.startsWith("cannot open NVMe disk " + loop + ": "), m);
    assertEquals(m.indexOf(loop.toString()), m.lastIndexOf(loop.toString()), m);
  }

  @Test
  void aDeviceOrAFifoIsNotADisk() throws Exception {
    assertEquals(
        "cannot open NVMe disk /dev/null: not a regular file (a disk is a file of 512-byte blocks)",
        failure(Path.of("/dev/null"), OptionalLong.empty()));
    Path fifo = dir.resolve("fifo");
    assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
    assertEquals(
        "cannot open NVMe disk "
            + fifo
            + ": not a regular file (a disk is a file of 512-byte blocks)",
        failure(fifo, OptionalLong.empty()));
  }

  @Test
  void anUnreadableFileIsRefused() throws IOException {
    Path f = dir.resolve("locked.img");
    Files.write(f, new byte[512]);
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("---------"));
    assumeFalse(Files.isReadable(f), "root reads anything");
    assertEquals(
        "cannot open NVMe disk " + f + ": permission denied (it must be readable and writable)",
        failure(f, OptionalLong.empty()));
  }

  @Test
  void accessesOutsideTheDiskAreProgrammingErrors() throws IOException {
    try (NvmeDisk d = NvmeDisk.open(dir.resolve("d.img"), OptionalLong.of(4096))) {
      assertThrows(IllegalArgumentException.class, () -> d.read(8, new byte[512]));
      assertThrows(IllegalArgumentException.class, () -> d.read(7, new byte[1024]));
      assertThrows(IllegalArgumentException.class, () -> d.write(-1, new byte[512]));
      assertThrows(IllegalArgumentException.class, () -> d.write(0, new byte[100]));
      assertThrows(IllegalArgumentException.class, () -> d.writeZeroes(4, 5));
      d.writeZeroes(0, 8);
    }
  }

  @Test
  void aShortenedFileReadsZerosPastItsEnd() throws IOException {
    Path f = dir.resolve("short.img");
    try (NvmeDisk d = NvmeDisk.open(f, OptionalLong.of(4096))) {
      byte[] ones = new byte[1024];
      Arrays.fill(ones, (byte) 1);
      d.write(6, ones);
      try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
        ch.truncate(3584);
      }
      byte[] b = new byte[1024];
      d.read(6, b);
      byte[] expected = ones.clone();
      Arrays.fill(expected, 512, 1024, (byte) 0);
      assertArrayEquals(expected, b);
    }
  }

  @Test
  void whatTheGuestWroteAndFlushedIsInTheFileAfterReopening() throws IOException {
    Path f = dir.resolve("durable.img");
    byte[] data = new byte[8192];
    new Random(2).nextBytes(data);
    HostDriver h = new HostDriver(NvmeConfig.of(1), NvmeDisk.open(f, OptionalLong.of(1 << 20)));
    h.pci(true, true, false);
    h.enable(4, 4);
    h.createQueuePair(1, 4, 1);
    h.mem.put(DATA, data);
    assertEquals(
        NvmeStatus.SUCCESS, h.io(1, rw(IoCommands.WRITE, 33, 16, DATA, DATA + 4096)).status());
    assertEquals(NvmeStatus.SUCCESS, h.io(1, HostDriver.cmd(IoCommands.FLUSH, 1, 0, 0)).status());
    h.reg32(NvmeRegisters.CC, HostDriver.CC_ENABLE | 1 << 14); // shutdown, as a guest does
    h.close();
    try (NvmeDisk again = NvmeDisk.open(f, OptionalLong.of(1 << 20))) {
      byte[] b = new byte[8192];
      again.read(33, b);
      assertArrayEquals(data, b);
    }
  }
}
