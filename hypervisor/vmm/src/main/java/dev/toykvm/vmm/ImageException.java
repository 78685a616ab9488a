package dev.toykvm.vmm;

/** An image that cannot be booted; the message reads "cannot load image X: why". */
public final class ImageException extends RuntimeException {
  public ImageException(String image, String why) {
    super("cannot load image " + image + ": " + why);
  }

  /** For a message that already has the "cannot load ..." form (from the test-images module). */
  static ImageException withMessage(String message) {
    return new ImageException(message);
  }

  private ImageException(String message) {
    super(message);
  }
}
