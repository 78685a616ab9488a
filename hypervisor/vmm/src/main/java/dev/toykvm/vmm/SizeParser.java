package dev.toykvm.vmm;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses sizes such as {@code 16M}, {@code 64MiB}, {@code 1G}, {@code 512k} or {@code 4096}: {@code
 * --memory} and the {@code size=} of {@code --device nvme}.
 */
public final class SizeParser {
  private static final Pattern SIZE =
      Pattern.compile("(\\d+)\\s*([kmg]?)(i?b)?", Pattern.CASE_INSENSITIVE);

  private SizeParser() {}

  /**
   * @return the size in bytes (suffixes are binary: k = 1024)
   * @throws IllegalArgumentException if {@code text} is not a size
   */
  public static long parse(String text) {
    Matcher m = SIZE.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a size (examples: 16M, 64MiB, 1G, 4194304)");
    }
    int shift =
        switch (m.group(2).toLowerCase(Locale.ROOT)) {
          case "k" -> 10;
          case "m" -> 20;
          case "g" -> 30;
          default -> 0;
        };
    try {
      long n = Long.parseLong(m.group(1));
      if (n > (Long.MAX_VALUE >> shift)) {
        throw new NumberFormatException();
      }
      return n << shift;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is too large");
    }
  }
}
