package dev.toykvm.images;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * A guest image and its manifest: one of the images bundled in this jar (built from
 * guest-firmware), or a user's image file. Immutable: {@link #bytes()} returns a copy.
 *
 * <pre>{@code
 * TestImage hello = TestImage.load("hello");
 * byte[] rom = hello.bytes(); // 64 KiB, map it at hello.manifest().load()
 * hello.manifest().expectSerial(); // Optional[Hello from long mode\n]
 * }</pre>
 *
 * @param name the image's name: {@code hello}, or a file's name without its extension
 * @param bytes the image, exactly {@code manifest.format().size()} bytes
 * @param manifest where the image goes and what it should do
 */
public record TestImage(String name, byte[] bytes, Manifest manifest) {

  private static final String RESOURCE_DIR = "images/";
  private static final String INDEX = RESOURCE_DIR + "index";

  public TestImage {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(manifest, "manifest");
    bytes = bytes.clone();
  }

  /** A copy of the image's bytes. */
  @Override
  public byte[] bytes() {
    return bytes.clone();
  }

  /** The SHA-256 of the image, lower-case hex. */
  public String sha256() {
    return sha256(bytes);
  }

  /** The names of the bundled images, in the order guest-firmware lists them. */
  public static List<String> names() {
    try (InputStream in = resource(INDEX)) {
      if (in == null) {
        throw new ImageException(
            "cannot list test images: resource " + INDEX + " missing from the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8)
          .lines()
          .map(String::strip)
          .filter(line -> !line.isEmpty())
          .toList();
    } catch (IOException e) {
      throw new ImageException("cannot list test images: " + e.getMessage(), e);
    }
  }

  /**
   * Loads a bundled image by name.
   *
   * @throws ImageException if there is no such image, or the bundled files are damaged
   */
  public static TestImage load(String name) {
    String what = "test image " + name;
    List<String> names = names();
    if (!names.contains(name)) {
      throw new ImageException(
          "cannot load " + what + ": no such image; known images: " + String.join(", ", names));
    }
    String manifestPath = RESOURCE_DIR + name + ".manifest";
    Manifest manifest;
    byte[] bytes;
    try (InputStream manifestIn = resource(manifestPath);
        InputStream binIn = resource(RESOURCE_DIR + name + ".bin")) {
      if (manifestIn == null || binIn == null) {
        throw new ImageException("cannot load " + what + ": its .bin or .manifest is missing");
      }
      manifest = Manifest.read(manifestIn, manifestPath);
      bytes = binIn.readAllBytes();
    } catch (IOException | IllegalArgumentException e) {
      throw new ImageException("cannot load " + what + ": " + e.getMessage(), e);
    }
    return checked(what, name, bytes, manifest);
  }

  /**
   * Reads a user's image file. A manifest beside it ({@code foo.manifest} for {@code foo.bin}) is
   * read if present; without one the image is taken as {@code rom64k} with no expectations.
   *
   * @throws ImageException if the file is missing or unreadable, its size does not fit its format,
   *     the manifest is malformed, or the manifest's sha256 does not match the file
   */
  public static TestImage fromFile(Path binary) {
    String what = "image " + binary;
    String fileName = binary.getFileName() == null ? "" : binary.getFileName().toString();
    int dot = fileName.lastIndexOf('.');
    String name = dot > 0 ? fileName.substring(0, dot) : fileName;
    Path manifestPath = binary.resolveSibling(name + ".manifest");
    try {
      if (Files.isDirectory(binary)) {
        throw new ImageException("cannot load " + what + ": it is a directory");
      }
      if (Files.exists(binary) && !Files.isRegularFile(binary)) {
        throw new ImageException("cannot load " + what + ": not a regular file");
      }
      byte[] bytes = readAtMost(binary, what, MAX_IMAGE_BYTES);
      Manifest manifest;
      if (Files.exists(manifestPath)) {
        if (!Files.isRegularFile(manifestPath)) {
          throw new ImageException("cannot load " + what + ": " + manifestPath + " is not a file");
        }
        byte[] text = readAtMost(manifestPath, what + "'s manifest", MAX_MANIFEST_BYTES);
        try (InputStream in = new java.io.ByteArrayInputStream(text)) {
          manifest = Manifest.read(in, manifestPath.toString());
        }
      } else {
        manifest = Manifest.defaults(ImageFormat.ROM64K, "user image " + binary);
      }
      return checked(what, name, bytes, manifest);
    } catch (NoSuchFileException e) {
      throw new ImageException("cannot load " + what + ": no such file", e);
    } catch (IOException e) {
      throw new ImageException("cannot load " + what + ": " + e, e);
    } catch (IllegalArgumentException e) {
      throw new ImageException("cannot load " + what + ": " + e.getMessage(), e);
    }
  }

  /** The largest image any format has: no more than this is ever read from a user's file. */
  static final int MAX_IMAGE_BYTES =
      java.util.Arrays.stream(ImageFormat.values()).mapToInt(ImageFormat::size).max().orElseThrow();

  /** A manifest is a few lines; a larger file is not one. */
  static final int MAX_MANIFEST_BYTES = 64 * 1024;

  /** Reads {@code path} whole if it has at most {@code max} bytes (never more than max + 1). */
  private static byte[] readAtMost(Path path, String what, int max) throws IOException {
    try (InputStream in = Files.newInputStream(path)) {
      byte[] bytes = in.readNBytes(max + 1);
      if (bytes.length > max) {
        throw new ImageException("cannot load " + what + ": larger than " + max + " bytes");
      }
      return bytes;
    }
  }

  private static TestImage checked(String what, String name, byte[] bytes, Manifest manifest) {
    ImageFormat format = manifest.format();
    if (bytes.length != format.size()) {
      throw new ImageException(
          "cannot load "
              + what
              + ": size "
              + bytes.length
              + " is not "
              + format.size()
              + " bytes (a "
              + format.manifestName()
              + " image)");
    }
    String actual = sha256(bytes);
    manifest
        .sha256()
        .filter(expected -> !expected.equals(actual))
        .ifPresent(
            expected -> {
              throw new ImageException(
                  "cannot load "
                      + what
                      + ": sha256 mismatch: the manifest says "
                      + expected
                      + ", the image is "
                      + actual);
            });
    return new TestImage(name, bytes, manifest);
  }

  private static InputStream resource(String path) {
    return TestImage.class.getClassLoader().getResourceAsStream(path);
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TestImage other
        && name.equals(other.name)
        && Arrays.equals(bytes, other.bytes)
        && manifest.equals(other.manifest);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, Arrays.hashCode(bytes), manifest);
  }

  @Override
  public String toString() {
    return "TestImage[" + name + ", " + bytes.length + " bytes, sha256 " + sha256() + "]";
  }
}
