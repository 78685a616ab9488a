package dev.toykvm.vmm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * What a user's image file must be before anything reads it: a regular file (after symlinks) of at
 * most the size an image may have. Checked from the file's metadata only, so a FIFO with no writer,
 * {@code /dev/zero} or a huge file is refused at once rather than read.
 */
final class ImageFile {
  private ImageFile() {}

  /**
   * @param shown the image as the user named it, for the message
   * @param maxBytes the most an image of this kind may have
   * @throws ImageException "cannot load image X: not a regular file (a FIFO)", "... larger than N
   *     bytes ...", "... the file is empty", or "... no such file"
   */
  static void check(String shown, Path path, long maxBytes) {
    check("image", shown, path, maxBytes);
  }

  /**
   * As {@link #check(String, Path, long)} for a file of another kind: "cannot load KIND X: why".
   *
   * @param kind "image" or "firmware"
   */
  static void check(String kind, String shown, Path path, long maxBytes) {
    BasicFileAttributes attrs;
    try {
      attrs = Files.readAttributes(path, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      throw ImageException.of(kind, shown, "no such file");
    } catch (IOException e) {
      throw ImageException.of(kind, shown, e.toString());
    }
    if (!attrs.isRegularFile()) {
      throw ImageException.of(kind, shown, "not a regular file (" + fileType(path, attrs) + ")");
    }
    if (attrs.size() > maxBytes) {
      throw ImageException.of(
          kind, shown, "larger than " + maxBytes + " bytes (the file has " + attrs.size() + ")");
    }
    if (attrs.size() == 0) {
      throw ImageException.of(
          kind,
          shown,
          "the file is empty"
              + (kind.equals("image") ? "; an image has " + maxBytes + " bytes" : ""));
    }
  }

  /** "a directory", "a FIFO", ...: what the file is instead of a regular file. */
  private static String fileType(Path path, BasicFileAttributes attrs) {
    if (attrs.isDirectory()) {
      return "it is a directory";
    }
    try {
      int mode = (Integer) Files.getAttribute(path, "unix:mode");
      return switch (mode & 0xf000) {
        case 0x1000 -> "a FIFO";
        case 0x2000 -> "a character device";
        case 0x6000 -> "a block device";
        case 0xc000 -> "a socket";
        default -> "mode 0" + Integer.toOctalString(mode);
      };
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return "not a file with data";
    }
  }
}
