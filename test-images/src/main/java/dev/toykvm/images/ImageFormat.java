package dev.toykvm.images;

import java.util.Arrays;
import java.util.Optional;

/** How an image's bytes are laid out and placed in guest memory. */
public enum ImageFormat {
  /**
   * Exactly 64 KiB, mapped read-only at {@code 0xFFFF0000} and aliased read-only at {@code
   * 0xF0000}; the vCPU starts at image offset {@code 0xFFF0} (see guest-firmware/README.md).
   */
  ROM64K("rom64k", 65536, 0xFFFF_0000L, 0xF_0000L, 0xFFFF_FFF0L);

  private final String manifestName;
  private final int size;
  private final long load;
  private final long alias;
  private final long entry;

  ImageFormat(String manifestName, int size, long load, long alias, long entry) {
    this.manifestName = manifestName;
    this.size = size;
    this.load = load;
    this.alias = alias;
    this.entry = entry;
  }

  /** The value of the manifest's {@code format} key, e.g. {@code rom64k}. */
  public String manifestName() {
    return manifestName;
  }

  /** The exact size of an image in bytes. */
  public int size() {
    return size;
  }

  /** The default guest-physical load address. */
  public long defaultLoad() {
    return load;
  }

  /** The default guest-physical address of the read-only alias. */
  public long defaultAlias() {
    return alias;
  }

  /** The default linear address of the first instruction. */
  public long defaultEntry() {
    return entry;
  }

  /** The format whose manifest name is {@code name}, if any. */
  public static Optional<ImageFormat> byManifestName(String name) {
    return Arrays.stream(values()).filter(f -> f.manifestName.equals(name)).findFirst();
  }
}
