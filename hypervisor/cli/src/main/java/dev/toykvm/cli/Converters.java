package dev.toykvm.cli;

import dev.toykvm.vmm.DeviceSpec;
import dev.toykvm.vmm.MachineLayout;
import dev.toykvm.vmm.SizeParser;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Option converters; a bad value is a usage error with a message that says what is accepted. */
final class Converters {
  private Converters() {}

  /**
   * {@code --memory}: a size from 2 MiB to 32 GiB, a multiple of 4 KiB (above 3 GiB, 3 GiB of it
   * sits below the PCI hole and the rest from 4 GiB).
   */
  static final class Memory implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      long bytes;
      try {
        bytes = SizeParser.parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
      if (bytes < MachineLayout.MIN_MEMORY || bytes > MachineLayout.MAX_MEMORY) {
        throw new TypeConversionException(
            "'" + value + "' is out of range: guest memory is 2M to 32G");
      }
      if (bytes % 4096 != 0) {
        throw new TypeConversionException(
            "'" + value + "' is not a multiple of 4 KiB (the page size)");
      }
      return bytes;
    }
  }

  /** {@code --timeout}: {@code 500ms}, {@code 30s}, {@code 2m}; a bare number is seconds. */
  static final class Timeout implements ITypeConverter<Duration> {
    private static final Pattern DURATION =
        Pattern.compile("(\\d+)\\s*(ms|s|m|h)?", Pattern.CASE_INSENSITIVE);

    @Override
    public Duration convert(String value) {
      Matcher m = DURATION.matcher(value.trim());
      if (!m.matches()) {
        throw new TypeConversionException(
            "'" + value + "' is not a duration (examples: 500ms, 30s, 2m)");
      }
      long n;
      try {
        n = Long.parseLong(m.group(1));
      } catch (NumberFormatException e) {
        throw new TypeConversionException("'" + value + "' is too large");
      }
      String unit = m.group(2) == null ? "s" : m.group(2).toLowerCase(Locale.ROOT);
      Duration d =
          switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofSeconds(n);
          };
      if (d.isZero()) {
        throw new TypeConversionException("'" + value + "': the timeout must be positive");
      }
      return d;
    }
  }

  /** {@code --device}: a device spec (see {@link DeviceSpec}). */
  static final class Device implements ITypeConverter<DeviceSpec> {
    @Override
    public DeviceSpec convert(String value) {
      try {
        return DeviceSpec.parse(value);
      } catch (DeviceSpec.SpecException e) {
        throw new TypeConversionException(e.detail());
      }
    }
  }

  /** {@code --com1-route}: ioregionfd, vmm or in-process. */
  static final class Route implements ITypeConverter<DeviceSpec.Route> {
    @Override
    public DeviceSpec.Route convert(String value) {
      for (DeviceSpec.Route r : DeviceSpec.Route.values()) {
        if (r.label().equals(value)) {
          return r;
        }
      }
      throw new TypeConversionException(
          "'" + value + "' is not a route: ioregionfd, vmm or in-process");
    }
  }
}
