package dev.toykvm.images;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a test image is and what it should do: the {@code NAME.manifest} properties file beside
 * {@code NAME.bin}. The keys are documented in guest-firmware/README.md.
 *
 * @param description one line for humans
 * @param format the image format
 * @param load the guest-physical address of the image
 * @param alias the guest-physical address of the image's read-only alias below 1 MiB
 * @param entry the linear address of the first instruction
 * @param expectSerial the exact text the guest writes to COM1, if known
 * @param expectExit how the guest ends, if known
 * @param source the source of the image, relative to the repository root, if known
 * @param sha256 the SHA-256 of the image in lower-case hex, if the manifest states it
 */
public record Manifest(
    String description,
    ImageFormat format,
    long load,
    long alias,
    long entry,
    Optional<String> expectSerial,
    Optional<ExpectedExit> expectExit,
    Optional<String> source,
    Optional<String> sha256) {

  private static final Set<String> KEYS =
      Set.of(
          "description",
          "format",
          "load",
          "alias",
          "entry",
          "expect.serial",
          "expect.exit",
          "source",
          "sha256");

  public Manifest {
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(expectSerial, "expectSerial");
    Objects.requireNonNull(expectExit, "expectExit");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(sha256, "sha256");
  }

  /** The manifest of an image that comes without one: the format's defaults, no expectations. */
  public static Manifest defaults(ImageFormat format, String description) {
    return new Manifest(
        description,
        format,
        format.defaultLoad(),
        format.defaultAlias(),
        format.defaultEntry(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty());
  }

  /**
   * Reads a manifest. Missing keys take the defaults of {@link #defaults}; {@code format} defaults
   * to {@code rom64k}.
   *
   * @param in the properties text, UTF-8
   * @param where names the manifest in error messages, e.g. its path
   * @throws IllegalArgumentException naming {@code where} and the bad key, if a key is unknown or a
   *     value malformed
   * @throws IOException if {@code in} cannot be read
   */
  public static Manifest read(InputStream in, String where) throws IOException {
    Properties p = new Properties();
    p.load(new InputStreamReader(in, StandardCharsets.UTF_8));
    Set<String> unknown = new TreeSet<>(p.stringPropertyNames());
    unknown.removeAll(KEYS);
    if (!unknown.isEmpty()) {
      throw bad(where, "unknown keys " + unknown + "; known keys: " + new TreeSet<>(KEYS));
    }
    String formatName = p.getProperty("format", ImageFormat.ROM64K.manifestName());
    ImageFormat format =
        ImageFormat.byManifestName(formatName)
            .orElseThrow(
                () -> bad(where, "format=" + formatName + " is not supported (known: rom64k)"));
    Optional<ExpectedExit> exit;
    try {
      exit = Optional.ofNullable(p.getProperty("expect.exit")).map(ExpectedExit::parse);
    } catch (IllegalArgumentException e) {
      throw bad(where, e.getMessage());
    }
    return new Manifest(
        p.getProperty("description", ""),
        format,
        address(p, "load", format.defaultLoad(), where),
        address(p, "alias", format.defaultAlias(), where),
        address(p, "entry", format.defaultEntry(), where),
        Optional.ofNullable(p.getProperty("expect.serial")),
        exit,
        Optional.ofNullable(p.getProperty("source")),
        Optional.ofNullable(p.getProperty("sha256")).map(v -> sha256(v, where)));
  }

  private static long address(Properties p, String key, long defaultValue, String where) {
    String value = p.getProperty(key);
    if (value == null) {
      return defaultValue;
    }
    try {
      return value.startsWith("0x") || value.startsWith("0X")
          ? Long.parseUnsignedLong(value.substring(2), 16)
          : Long.parseUnsignedLong(value);
    } catch (NumberFormatException e) {
      throw bad(where, key + "=" + value + " is not a number (decimal, or hex with 0x)");
    }
  }

  private static String sha256(String value, String where) {
    if (value.length() != 64 || !value.chars().allMatch(HexFormat::isHexDigit)) {
      throw bad(where, "sha256=" + value + " is not 64 hex digits");
    }
    return value.toLowerCase(Locale.ROOT);
  }

  private static IllegalArgumentException bad(String where, String why) {
    return new IllegalArgumentException("manifest " + where + ": " + why);
  }
}
