package dev.toykvm.vmm;

import dev.toykvm.images.TestImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The images bundled in the {@code test-images} module, and the rule that turns the command line's
 * {@code IMAGE} argument into a {@link GuestImage}.
 */
public final class BundledImages {
  private BundledImages() {}

  /** One entry of {@code toykvm images}. */
  public record Entry(String name, String description) {}

  /**
   * Resolves the command line's {@code IMAGE}: a path to a {@code .bin} file (anything with a
   * slash, ending in {@code .bin}, or naming an existing file), otherwise a bundled image's name. A
   * file may have a manifest beside it ({@code foo.manifest} for {@code foo.bin}), which is checked
   * as the bundled ones are. Files are checked before they are read ({@link ImageFile}): only a
   * regular file of at most 64 KiB is read (and a manifest of at most {@link #MAX_MANIFEST} bytes).
   *
   * @throws ImageException naming the image and why it cannot be loaded
   */
  public static GuestImage resolve(String image) {
    try {
      Path path = Path.of(image);
      TestImage loaded;
      if (image.contains("/") || image.endsWith(".bin") || Files.exists(path)) {
        ImageFile.check(image, path, MachineLayout.ROM_SIZE);
        Path manifest = manifestOf(path);
        if (Files.exists(manifest)) {
          ImageFile.check(manifest.toString(), manifest, MAX_MANIFEST);
        }
        loaded = TestImage.fromFile(path);
      } else {
        loaded = TestImage.load(image);
      }
      return new GuestImage(image, loaded.manifest().description(), loaded.bytes());
    } catch (dev.toykvm.images.ImageException e) {
      // test-images already says "cannot load ... X: why"; do not say it twice.
      throw ImageException.withMessage(e.getMessage());
    }
  }

  /** The most a manifest file beside an image may have. */
  static final long MAX_MANIFEST = 64 * 1024;

  /** {@code foo.manifest} for {@code foo.bin}, as {@link TestImage#fromFile} looks for it. */
  private static Path manifestOf(Path binary) {
    String fileName = binary.getFileName() == null ? "" : binary.getFileName().toString();
    int dot = fileName.lastIndexOf('.');
    return binary.resolveSibling((dot > 0 ? fileName.substring(0, dot) : fileName) + ".manifest");
  }

  /** The bundled images with their descriptions, sorted by name. */
  public static List<Entry> list() {
    return TestImage.names().stream()
        .sorted()
        .map(name -> new Entry(name, TestImage.load(name).manifest().description()))
        .toList();
  }
}
