package dev.toykvm.vmm;

import dev.toykvm.devices.DeviceKind;
import dev.toykvm.devices.NvmeHost;
import dev.toykvm.vmm.DeviceSpec.Route;
import dev.toykvm.vmm.DeviceSpec.SpecException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * What an {@code --device nvme,...} says besides the route and name: the disk file, its size if
 * given, and the I/O queue pairs.
 *
 * <p>Grammar: {@code nvme,disk=FILE[,size=BYTES][,queues=N][,route=ioregionfd|vmm|in-process]
 * [,name=NAME]}. {@code disk=} is required; the file is created at {@code size=} if absent (64 MiB
 * if no size is given); an existing file's size is used, and {@code size=} must match it if given
 * (checked by the device when it opens the disk). {@code size=} is a positive multiple of 512 (the
 * logical block), in bytes (decimal or 0x hex) or with a binary suffix as {@code --memory} takes
 * ({@code 512k}, {@code 4M}, {@code 64MiB}, {@code 1G}). {@code queues=} is 1-16, 4 by default. The
 * controller is a PCI function: its BARs are placed by firmware or by the VMM, so {@code pio=} and
 * {@code mmio=} are refused, as are the interrupt keys (its MSI-X vectors and INTx are wired by the
 * VMM).
 *
 * @param disk the disk image
 * @param size the size to create the disk at or to check it against, if given
 * @param queues I/O queue pairs (MSI-X vectors: one more)
 */
public record NvmeSpec(Path disk, OptionalLong size, int queues) {

  /** The size of a disk created without {@code size=}: 64 MiB. */
  public static final long DEFAULT_CREATE_SIZE = 64L << 20;

  /** The logical block size: SeaBIOS boots only from 512-byte blocks. */
  public static final int BLOCK = 512;

  /** The I/O queue pairs when {@code queues=} is not given. */
  public static final int DEFAULT_QUEUES = 4;

  private static final Set<String> KEYS = Set.of("disk", "size", "queues", "route", "name");

  /** MSI-X vectors: the admin queue's (vector 0) and one per I/O queue. */
  public int vectors() {
    return queues + 1;
  }

  /** The size the device creates the disk at if the file is absent. */
  public long createSize() {
    return size.orElse(DEFAULT_CREATE_SIZE);
  }

  /** {@code size=}: bytes, decimal or 0x hex, or with a binary suffix as {@code --memory} (4M). */
  private static long size(String spec, String text) {
    if (text.trim().toLowerCase(java.util.Locale.ROOT).startsWith("0x")) {
      return DeviceSpec.number(spec, "size", text, false);
    }
    try {
      return SizeParser.parse(text);
    } catch (IllegalArgumentException e) {
      throw new SpecException(
          spec,
          "size="
              + text
              + (e.getMessage().endsWith("too large")
                  ? " is too large"
                  : " is not a size (bytes, 0x hex, or 512k, 4M, 64MiB, 1G)"));
    }
  }

  /**
   * Parses the keys of an {@code nvme} device.
   *
   * @param parts the comma-separated parts, {@code nvme} first
   */
  static DeviceSpec parse(String spec, String[] parts) {
    Map<String, String> keys = new LinkedHashMap<>();
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i].trim();
      int eq = p.indexOf('=');
      if (eq <= 0) {
        throw new SpecException(spec, "'" + p + "' is not key=value");
      }
      String key = p.substring(0, eq);
      if (key.equals("pio") || key.equals("mmio")) {
        throw new SpecException(
            spec,
            key
                + "= is not for nvme: it is a PCI function, whose BARs firmware or the VMM"
                + " places");
      }
      if (!KEYS.contains(key)) {
        throw new SpecException(
            spec, "unknown key '" + key + "' for nvme; keys: disk, size, queues, route, name");
      }
      if (keys.put(key, p.substring(eq + 1)) != null) {
        throw new SpecException(spec, "'" + key + "' is given twice");
      }
    }
    String disk = keys.get("disk");
    if (disk == null || disk.isBlank()) {
      throw new SpecException(spec, "nvme needs disk=FILE (created if absent)");
    }
    OptionalLong size = OptionalLong.empty();
    if (keys.containsKey("size")) {
      long s = size(spec, keys.get("size"));
      if (s == 0 || s % BLOCK != 0) {
        throw new SpecException(
            spec, "size=" + keys.get("size") + " is not a positive multiple of " + BLOCK);
      }
      size = OptionalLong.of(s);
    }
    int queues = DEFAULT_QUEUES;
    if (keys.containsKey("queues")) {
      String q = keys.get("queues");
      if (!q.matches("[0-9]{1,3}")
          || Integer.parseInt(q) < NvmeHost.MIN_QUEUES
          || Integer.parseInt(q) > NvmeHost.MAX_QUEUES) {
        throw new SpecException(
            spec,
            "queues="
                + q
                + " is not "
                + NvmeHost.MIN_QUEUES
                + "-"
                + NvmeHost.MAX_QUEUES
                + " (I/O queue pairs)");
      }
      queues = Integer.parseInt(q);
    }
    Route route = DeviceSpec.route(spec, keys.getOrDefault("route", "ioregionfd"));
    if (keys.containsKey("name") && keys.get("name").isBlank()) {
      throw new SpecException(spec, "name= needs a name");
    }
    Path file = Path.of(disk);
    String name =
        keys.getOrDefault(
            "name", "nvme@" + (file.getFileName() == null ? disk : file.getFileName().toString()));
    return new DeviceSpec(
        DeviceKind.NVME,
        null,
        false,
        0,
        NvmeHost.BAR0_SIZE,
        route,
        route == Route.IOREGIONFD, // doorbells are posted writes
        name,
        List.of(),
        List.of(),
        List.of(),
        false,
        new NvmeSpec(file, size, queues));
  }
}
