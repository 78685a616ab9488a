package dev.toykvm.vmm;

/** An image that cannot be booted; the message reads "cannot load image X: why". */
public final class ImageException extends RuntimeException {
  public ImageException(String image, String why) {
    super("cannot load image " + image + ": " + why);
  }

  /** "cannot load KIND X: why", KIND being e.g. "image" or "firmware". */
  static ImageException of(String kind, String name, String why) {
    return new ImageException("cannot load " + kind + " " + name + ": " + why);
  }

  /** For a message that already has the "cannot load ..." form (from the test-images module). */
  static ImageException withMessage(String message) {
    return new ImageException(message);
  }

  private ImageException(String message) {
    super(message);
  }
}
