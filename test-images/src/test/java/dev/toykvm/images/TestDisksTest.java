package dev.toykvm.images;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed boot disks have the format a BIOS boots and the contents their boot code checks.
 */
class TestDisksTest {

  private static final int SECTOR = 512;
  private final byte[] disk = TestDisks.load("nvmeboot");

  @Test
  void nvmebootIsWholeSectorsUnder1MiB() {
    assertEquals(512 * 1024, disk.length, "1024 sectors: one cylinder of SeaBIOS's geometry");
    assertEquals(0, disk.length % SECTOR);
  }

  @Test
  void nvmebootHasTheBootSignatureAndIsLinkedAt0x7c00() {
    assertEquals(0x55, disk[510] & 0xff);
    assertEquals(0xaa, disk[511] & 0xff);
    ByteBuffer boot = ByteBuffer.wrap(disk, 0, SECTOR).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(0xfa, boot.get(0) & 0xff, "cli");
    assertEquals(0xea, boot.get(1) & 0xff, "ljmp ptr16:16");
    assertEquals(0x7c06, boot.getShort(2) & 0xffff, "to the next instruction, linked at 0x7c00");
    assertEquals(0, boot.getShort(4), "segment 0");
    String text = new String(disk, 0, SECTOR, StandardCharsets.ISO_8859_1);
    assertTrue(text.contains("loaded by the BIOS\r\n"), text);
    assertTrue(text.contains("nvmeboot: "), text);
  }

  @Test
  void nvmebootCarriesItsPatternThenZeros() {
    ByteBuffer b = ByteBuffer.wrap(disk).order(ByteOrder.LITTLE_ENDIAN);
    for (int lba = 1; lba <= TestDisks.NVMEBOOT_PATTERN_SECTORS; lba++) {
      for (int word = 0; word < SECTOR / 4; word++) {
        int at = lba * SECTOR + 4 * word;
        assertEquals(
            TestDisks.nvmebootPattern(lba, word), b.getInt(at), "LBA " + lba + " word " + word);
      }
    }
    for (int at = (TestDisks.NVMEBOOT_PATTERN_SECTORS + 1) * SECTOR; at < disk.length; at++) {
      assertEquals(0, disk[at], "padding at " + at);
    }
  }

  @Test
  void thePatternDiffersFromSectorToSector() {
    assertTrue(TestDisks.nvmebootPattern(1, 0) != TestDisks.nvmebootPattern(2, 0));
    assertTrue(TestDisks.nvmebootPattern(1, 0) != TestDisks.nvmebootPattern(1, 1));
  }

  @Test
  void extractWritesACopy(@TempDir Path dir) throws IOException {
    Path file = TestDisks.extract("nvmeboot", dir);
    assertEquals("nvmeboot.img", file.getFileName().toString());
    assertArrayEquals(disk, Files.readAllBytes(file));
  }

  @Test
  void anUnknownDiskIsAClearError() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> TestDisks.load("nope"));
    assertEquals("no test disk named nope; known: [nvmeboot]", e.getMessage());
  }
}
