package dev.toykvm.images;

/** A guest image or its manifest cannot be loaded. The message reads "cannot X: why". */
public final class ImageException extends RuntimeException {
  public ImageException(String message) {
    super(message);
  }

  public ImageException(String message, Throwable cause) {
    super(message, cause);
  }
}
