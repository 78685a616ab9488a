package dev.toykvm.images;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FromFileTest {

  @TempDir Path dir;

  private Path writeImage(String fileName, int size) throws IOException {
    byte[] bytes = new byte[size];
    if (size > 0) {
      bytes[size - 1] = 0x42;
    }
    return Files.write(dir.resolve(fileName), bytes);
  }

  private void writeManifest(String fileName, String text) throws IOException {
    Files.writeString(dir.resolve(fileName), text);
  }

  private String failure(Path binary) {
    return assertThrows(ImageException.class, () -> TestImage.fromFile(binary)).getMessage();
  }

  @Test
  void withoutManifestTakesRom64kDefaultsAndNoExpectations() throws IOException {
    Path bin = writeImage("mine.bin", 65536);

    TestImage image = TestImage.fromFile(bin);

    assertEquals("mine", image.name());
    assertArrayEquals(Files.readAllBytes(bin), image.bytes());
    Manifest m = image.manifest();
    assertEquals(ImageFormat.ROM64K, m.format());
    assertEquals(0xFFFF_0000L, m.load());
    assertEquals(0xF_0000L, m.alias());
    assertEquals(0xFFFF_FFF0L, m.entry());
    assertEquals(Optional.empty(), m.expectSerial());
    assertEquals(Optional.empty(), m.expectExit());
    assertEquals(Optional.empty(), m.sha256());
  }

  @Test
  void readsTheManifestBesideTheImage() throws IOException {
    Path bin = writeImage("mine.bin", 65536);
    String sha = TestImage.sha256(Files.readAllBytes(bin));
    writeManifest(
        "mine.manifest",
        "description=mine\nexpect.serial=hi\\n\nexpect.exit=7\nload=4294901760\nsha256="
            + sha.toUpperCase()
            + "\n");

    Manifest m = TestImage.fromFile(bin).manifest();

    assertEquals("mine", m.description());
    assertEquals(Optional.of("hi\n"), m.expectSerial());
    assertEquals(Optional.of(new ExpectedExit.Status(7)), m.expectExit());
    assertEquals(0xFFFF_0000L, m.load());
    assertEquals(Optional.of(sha), m.sha256());
  }

  @Test
  void rejectsAWrongSize() throws IOException {
    Path bin = writeImage("small.bin", 1234);
    assertEquals(
        "cannot load image " + bin + ": size 1234 is not 65536 bytes (a rom64k image)",
        failure(bin));
  }

  @Test
  void readsNoMoreThanAnImageMayHave() throws IOException {
    // /dev/zero would never end; a sparse file of 1 GiB stands for any too-large file.
    Path big = dir.resolve("big.bin");
    try (var f =
        java.nio.channels.FileChannel.open(
            big,
            java.nio.file.StandardOpenOption.CREATE_NEW,
            java.nio.file.StandardOpenOption.WRITE)) {
      f.write(java.nio.ByteBuffer.wrap(new byte[] {1}), 1L << 30);
    }
    assertEquals(
        "cannot load image " + big + ": larger than " + TestImage.MAX_IMAGE_BYTES + " bytes",
        failure(big));
    assertTrue(failure(Path.of("/dev/zero")).contains("not a regular file"));
  }

  @Test
  void rejectsAMissingFile() {
    Path bin = dir.resolve("absent.bin");
    assertEquals("cannot load image " + bin + ": no such file", failure(bin));
  }

  @Test
  void rejectsADirectory() {
    assertEquals("cannot load image " + dir + ": it is a directory", failure(dir));
  }

  @Test
  void rejectsABadNumber() throws IOException {
    Path bin = writeImage("mine.bin", 65536);
    writeManifest("mine.manifest", "load=0xzz\n");
    assertEquals(
        "cannot load image "
            + bin
            + ": manifest "
            + dir.resolve("mine.manifest")
            + ": load=0xzz is not a number (decimal, or hex with 0x)",
        failure(bin));
  }

  @Test
  void rejectsABadExit() throws IOException {
    Path bin = writeImage("mine.bin", 65536);
    writeManifest("mine.manifest", "expect.exit=256\n");
    assertEquals(
        "cannot load image "
            + bin
            + ": manifest "
            + dir.resolve("mine.manifest")
            + ": expect.exit=256 is not a status 0-255 or 'shutdown'",
        failure(bin));
  }

  @Test
  void rejectsAnUnknownFormatAndUnknownKeys() throws IOException {
    Path bin = writeImage("mine.bin", 65536);
    writeManifest("mine.manifest", "format=elf\n");
    assertEquals(
        "cannot load image "
            + bin
            + ": manifest "
            + dir.resolve("mine.manifest")
            + ": format=elf is not supported (known: rom64k)",
        failure(bin));

    writeManifest("mine.manifest", "expect.serail=typo\n");
    assertEquals(
        "cannot load image "
            + bin
            + ": manifest "
            + dir.resolve("mine.manifest")
            + ": unknown keys [expect.serail]; known keys: [alias, description, entry,"
            + " expect.exit, expect.serial, format, load, sha256, source]",
        failure(bin));
  }

  @Test
  void rejectsASha256Mismatch() throws IOException {
    Path bin = writeImage("mine.bin", 65536);
    String actual = TestImage.sha256(Files.readAllBytes(bin));
    String wrong = "0".repeat(64);
    writeManifest("mine.manifest", "sha256=" + wrong + "\n");
    assertEquals(
        "cannot load image "
            + bin
            + ": sha256 mismatch: the manifest says "
            + wrong
            + ", the image is "
            + actual,
        failure(bin));

    writeManifest("mine.manifest", "sha256=abc\n");
    assertEquals(
        "cannot load image "
            + bin
            + ": manifest "
            + dir.resolve("mine.manifest")
            + ": sha256=abc is not 64 hex digits",
        failure(bin));
  }
}
