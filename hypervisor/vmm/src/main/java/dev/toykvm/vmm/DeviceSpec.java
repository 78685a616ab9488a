package dev.toykvm.vmm;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One {@code --device} argument: which device, where it sits on which bus, and how its accesses
 * reach it.
 *
 * <p>Grammar: {@code KIND[,key=value]...} where KIND is {@code uart}, {@code testdev} or {@code
 * exec=PATH} (any program that speaks the ioregionfd wire protocol on its stdin and stdout), and
 * the keys are {@code pio=PORT} or {@code mmio=ADDRESS} (exactly one), {@code size=BYTES}, {@code
 * route=ioregionfd|vmm|in-process}, {@code posted=on|off} (ioregionfd posted writes) and {@code
 * name=NAME} (for logs). Numbers are decimal or {@code 0x} hex. Examples:
 *
 * <pre>
 * uart,pio=0x3f8
 * testdev,pio=0x1234,size=8,route=ioregionfd
 * testdev,mmio=0xfeb00000,size=0x1000,posted=on
 * exec=/usr/local/bin/mydev,mmio=0xfeb00000,size=0x1000
 * </pre>
 *
 * @param kind {@code uart}, {@code testdev} or {@code exec}
 * @param program the program of an {@code exec} device, else null
 * @param pio whether the device is on the PIO bus (else MMIO)
 * @param base first port or guest-physical address
 * @param size length in bytes (ports)
 * @param route how accesses reach the device
 * @param posted whether writes are posted (ioregionfd route only)
 * @param name the device's name in logs and traces
 */
public record DeviceSpec(
    String kind,
    Path program,
    boolean pio,
    long base,
    long size,
    Route route,
    boolean posted,
    String name) {

  /** How a device's accesses reach it. */
  public enum Route {
    /** The kernel side sends them straight to the device process (KVM_SET_IOREGIONFD). */
    IOREGIONFD,
    /** They exit to the VMM, which forwards them to the device process over its pipes. */
    VMM,
    /** The device object lives in the VMM; no other process. */
    IN_PROCESS;

    public String label() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  /** The devices toykvm knows by name, with their default size. */
  static final Map<String, Long> KINDS = Map.of("uart", 8L, "testdev", 8L);

  /** Thrown for a spec that cannot be parsed; the message says why. */
  public static final class SpecException extends IllegalArgumentException {
    SpecException(String spec, String why) {
      super("bad --device '" + spec + "': " + why);
    }
  }

  /** Parses one {@code --device} value. */
  public static DeviceSpec parse(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new SpecException(String.valueOf(spec), "empty");
    }
    String[] parts = spec.split(",", -1);
    String kind;
    Path program = null;
    String first = parts[0].trim();
    if (first.startsWith("exec=")) {
      kind = "exec";
      String path = first.substring("exec=".length());
      if (path.isEmpty()) {
        throw new SpecException(spec, "exec= needs the path of a program");
      }
      program = Path.of(path);
    } else if (KINDS.containsKey(first)) {
      kind = first;
    } else {
      throw new SpecException(
          spec, "unknown device '" + first + "'; known: uart, testdev, exec=PATH");
    }
    Map<String, String> keys = new LinkedHashMap<>();
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i].trim();
      int eq = p.indexOf('=');
      if (eq <= 0) {
        throw new SpecException(spec, "'" + p + "' is not key=value");
      }
      String key = p.substring(0, eq);
      if (keys.put(key, p.substring(eq + 1)) != null) {
        throw new SpecException(spec, "'" + key + "' is given twice");
      }
    }
    for (String key : keys.keySet()) {
      if (!java.util.Set.of("pio", "mmio", "size", "route", "posted", "name").contains(key)) {
        throw new SpecException(
            spec, "unknown key '" + key + "'; keys: pio, mmio, size, route, posted, name");
      }
    }
    if (keys.containsKey("pio") == keys.containsKey("mmio")) {
      throw new SpecException(spec, "give exactly one of pio=PORT or mmio=ADDRESS");
    }
    boolean pio = keys.containsKey("pio");
    long base = number(spec, pio ? "pio" : "mmio", keys.get(pio ? "pio" : "mmio"));
    Long defaultSize = "exec".equals(kind) ? null : KINDS.get(kind);
    if (!keys.containsKey("size") && defaultSize == null) {
      throw new SpecException(spec, "an exec= device needs size=BYTES");
    }
    long size = keys.containsKey("size") ? number(spec, "size", keys.get("size")) : defaultSize;
    if (size <= 0) {
      throw new SpecException(spec, "size must be at least 1");
    }
    if (pio && (base > 0xffff || base + size > 0x10000)) {
      throw new SpecException(
          spec,
          String.format(
              "ports 0x%x..0x%x do not fit the 16-bit port space", base, base + size - 1));
    }
    if (!pio && Long.compareUnsigned(base + size, base) < 0) {
      throw new SpecException(spec, "the MMIO range overflows the address space");
    }
    Route route = route(spec, keys.getOrDefault("route", "ioregionfd"));
    if ("exec".equals(kind) && route == Route.IN_PROCESS) {
      throw new SpecException(
          spec, "an exec= device is a separate program; route=in-process is impossible");
    }
    boolean posted = onOff(spec, keys.getOrDefault("posted", "off"));
    if (posted && route != Route.IOREGIONFD) {
      throw new SpecException(spec, "posted=on needs route=ioregionfd");
    }
    String name =
        keys.getOrDefault(
            "name",
            ("exec".equals(kind) ? program.getFileName().toString() : kind)
                + String.format("@%s0x%x", pio ? "pio:" : "", base));
    return new DeviceSpec(kind, program, pio, base, size, route, posted, name);
  }

  private static long number(String spec, String key, String text) {
    try {
      String t = text.trim().toLowerCase(Locale.ROOT);
      return t.startsWith("0x") ? Long.parseUnsignedLong(t.substring(2), 16) : Long.parseLong(t);
    } catch (NumberFormatException e) {
      throw new SpecException(spec, key + "=" + text + " is not a number (decimal or 0x hex)");
    }
  }

  private static Route route(String spec, String text) {
    for (Route r : Route.values()) {
      if (r.label().equals(text)) {
        return r;
      }
    }
    throw new SpecException(spec, "route=" + text + " is not one of ioregionfd, vmm, in-process");
  }

  private static boolean onOff(String spec, String text) {
    return switch (text) {
      case "on", "true", "yes" -> true;
      case "off", "false", "no" -> false;
      default -> throw new SpecException(spec, "posted=" + text + " is not on or off");
    };
  }

  /** Whether {@code address} (a port or guest-physical address on this bus) is in the device. */
  boolean covers(boolean onPio, long address) {
    return onPio == pio && address >= base && address - base < size;
  }
}
