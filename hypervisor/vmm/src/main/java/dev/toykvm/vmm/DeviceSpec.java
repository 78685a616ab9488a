package dev.toykvm.vmm;

import dev.toykvm.devices.DeviceKind;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One {@code --device} argument: which device, where it sits on which bus, and how its accesses
 * reach it.
 *
 * <p>An NVMe controller ({@code nvme,disk=FILE[,size=][,queues=][,route=][,name=]}) is a PCI
 * function with a grammar of its own ({@link NvmeSpec}); its {@code base} is 0 and {@code size} its
 * BAR0's, since firmware or the VMM places the BAR.
 *
 * <p>Grammar: {@code KIND[,key=value]...} where KIND is {@code uart}, {@code testdev} or {@code
 * exec=PATH} (any program that speaks the ioregionfd wire protocol on its stdin and stdout), and
 * the keys are {@code pio=PORT} or {@code mmio=ADDRESS} (exactly one), {@code size=BYTES}, {@code
 * route=ioregionfd|vmm|in-process}, {@code posted=on|off} (ioregionfd posted writes), {@code
 * name=NAME} (for logs), {@code irq=GSI[+GSI...]|none} (level interrupt lines: an irqfd with a
 * resamplefd each), {@code edge-irq=GSI[+GSI...]} (edge lines: an irqfd without resample, e.g. for
 * an MSI route), {@code msi=GSI:ADDRESS:DATA[+...]} (an MSI route for one of its edge lines, see
 * {@link MsiRoute}) and, for a UART, {@code input=stdin|none} (the VMM's stdin is its serial
 * input). A UART at a PC COM port gets that port's IRQ by default (4 for 0x3f8 and 0x3e8, 3 for
 * 0x2f8 and 0x2e8); no other device has lines unless given. Interrupt lines and input need a device
 * process of toykvm's (not {@code exec=}, not {@code route=in-process}). Numbers are decimal or
 * {@code 0x} hex. Ports must fit the 16-bit port space and addresses the 36-bit guest-physical
 * space ({@link MachineLayout#PHYS_LIMIT}): anything the kernel side or the guest could not use is
 * refused here, as a usage error. Examples:
 *
 * <pre>
 * uart,pio=0x3f8
 * testdev,pio=0x1234,size=8,route=ioregionfd
 * testdev,mmio=0xfeb00000,size=0x1000,posted=on
 * testdev,pio=0x1234,size=0x60,irq=5+10,edge-irq=24
 * testdev,mmio=0xfeb00000,size=0x1000,edge-irq=24,msi=24:0xfee00000:0x61
 * uart,pio=0x2f8,input=stdin
 * exec=/usr/local/bin/mydev,mmio=0xfeb00000,size=0x1000
 * </pre>
 *
 * @param kind which device
 * @param program the program of an {@code exec} device, else null
 * @param pio whether the device is on the PIO bus (else MMIO)
 * @param base first port or guest-physical address
 * @param size length in bytes (ports)
 * @param route how accesses reach the device
 * @param posted whether writes are posted (ioregionfd route only)
 * @param name the device's name in logs and traces
 * @param irqs the GSIs of its level interrupt lines (irqfds with resample)
 * @param edgeIrqs the GSIs of its edge interrupt lines (irqfds without resample)
 * @param msis the MSI routes of some of its edge lines' GSIs, which the VMM adds to the GSI routing
 *     table
 * @param stdin whether the VMM's stdin is its serial input (a UART)
 * @param nvme an NVMe controller's disk and queues, else null
 */
public record DeviceSpec(
    DeviceKind kind,
    Path program,
    boolean pio,
    long base,
    long size,
    Route route,
    boolean posted,
    String name,
    List<Integer> irqs,
    List<Integer> edgeIrqs,
    List<MsiRoute> msis,
    boolean stdin,
    NvmeSpec nvme) {

  /** The largest GSI accepted (KVM's routing table holds up to 4096 entries). */
  public static final int MAX_GSI = 4095;

  public DeviceSpec {
    irqs = List.copyOf(irqs);
    edgeIrqs = List.copyOf(edgeIrqs);
    msis = List.copyOf(msis);
    if ((kind == DeviceKind.NVME) != (nvme != null)) {
      throw new IllegalArgumentException("cannot describe device " + name + ": nvme= mismatch");
    }
  }

  /** A device that is not an NVMe controller. */
  public DeviceSpec(
      DeviceKind kind,
      Path program,
      boolean pio,
      long base,
      long size,
      Route route,
      boolean posted,
      String name,
      List<Integer> irqs,
      List<Integer> edgeIrqs,
      List<MsiRoute> msis,
      boolean stdin) {
    this(kind, program, pio, base, size, route, posted, name, irqs, edgeIrqs, msis, stdin, null);
  }

  /** A device with the default interrupt lines ({@link #defaultIrqs}) and no input. */
  public DeviceSpec(
      DeviceKind kind,
      Path program,
      boolean pio,
      long base,
      long size,
      Route route,
      boolean posted,
      String name) {
    this(
        kind,
        program,
        pio,
        base,
        size,
        route,
        posted,
        name,
        defaultIrqs(kind, pio, base, route),
        List.of(),
        List.of(),
        false);
  }

  /** The same device, with the VMM's stdin as its serial input or not. */
  public DeviceSpec withStdin(boolean on) {
    return new DeviceSpec(
        kind, program, pio, base, size, route, posted, name, irqs, edgeIrqs, msis, on, nvme);
  }

  /**
   * The interrupt lines a device has when {@code irq=} is not given: a UART in a device process at
   * a PC COM port has the port's ISA IRQ (COM1 and COM3: 4, COM2 and COM4: 3), as on a PC.
   */
  static List<Integer> defaultIrqs(DeviceKind kind, boolean pio, long base, Route route) {
    if (kind != DeviceKind.UART || !pio || route == Route.IN_PROCESS) {
      return List.of();
    }
    return switch ((int) base) {
      case 0x3f8, 0x3e8 -> List.of(4);
      case 0x2f8, 0x2e8 -> List.of(3);
      default -> List.of();
    };
  }

  /** Whether the device process gets irqfds or input. */
  public boolean hasInterruptsOrInput() {
    return !irqs.isEmpty() || !edgeIrqs.isEmpty() || stdin || nvme != null;
  }

  /** Whether it is a PCI function (its BARs placed by firmware or the VMM, not by the spec). */
  public boolean pci() {
    return kind.isPci();
  }

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

  private static final Set<String> KEYS =
      Set.of("pio", "mmio", "size", "route", "posted", "name", "irq", "edge-irq", "msi", "input");

  /** The port space: 0..0xffff. */
  private static final long PORT_LIMIT = 0x1_0000;

  /** Thrown for a spec that cannot be parsed; the message says why. */
  public static final class SpecException extends IllegalArgumentException {
    private final String detail;

    SpecException(String spec, String why) {
      super("bad --device '" + spec + "': " + why);
      this.detail = "'" + spec + "': " + why;
    }

    /** The spec and why, without "bad --device" (for a message that names the option already). */
    public String detail() {
      return detail;
    }
  }

  /** Parses one {@code --device} value. */
  public static DeviceSpec parse(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new SpecException(String.valueOf(spec), "empty");
    }
    String[] parts = spec.split(",", -1);
    DeviceKind kind;
    Path program = null;
    String first = parts[0].trim();
    if (first.startsWith("exec=")) {
      kind = DeviceKind.EXEC;
      String path = first.substring("exec=".length());
      if (path.isEmpty()) {
        throw new SpecException(spec, "exec= needs the path of a program");
      }
      program = Path.of(path);
    } else if (first.equals(DeviceKind.NVME.label())) {
      return NvmeSpec.parse(spec, parts);
    } else {
      kind =
          DeviceKind.byLabel(first)
              .filter(DeviceKind::isModel)
              .orElseThrow(
                  () ->
                      new SpecException(
                          spec,
                          "unknown device '"
                              + first
                              + "'; known: "
                              + DeviceKind.modelLabels()
                              + ", exec=PATH"));
      // (nvme, a PCI function, is parsed above by NvmeSpec)
    }
    Map<String, String> keys = new LinkedHashMap<>();
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i].trim();
      int eq = p.indexOf('=');
      if (eq <= 0) {
        throw new SpecException(spec, "'" + p + "' is not key=value");
      }
      String key = p.substring(0, eq);
      if (!KEYS.contains(key)) {
        throw new SpecException(
            spec,
            "unknown key '"
                + key
                + "'; keys: pio, mmio, size, route, posted, name, irq, edge-irq, msi, input");
      }
      if (keys.put(key, p.substring(eq + 1)) != null) {
        throw new SpecException(spec, "'" + key + "' is given twice");
      }
    }
    if (keys.containsKey("pio") == keys.containsKey("mmio")) {
      throw new SpecException(spec, "give exactly one of pio=PORT or mmio=ADDRESS");
    }
    boolean pio = keys.containsKey("pio");
    long base = number(spec, pio ? "pio" : "mmio", keys.get(pio ? "pio" : "mmio"), true);
    if (!keys.containsKey("size") && kind.defaultSize().isEmpty()) {
      throw new SpecException(spec, "an exec= device needs size=BYTES");
    }
    long size =
        keys.containsKey("size")
            ? number(spec, "size", keys.get("size"), false)
            : kind.defaultSize().getAsLong();
    if (size == 0) {
      throw new SpecException(spec, "size must be at least 1");
    }
    checkRange(spec, pio, base, size);
    Route route = route(spec, keys.getOrDefault("route", "ioregionfd"));
    if (kind == DeviceKind.EXEC && route == Route.IN_PROCESS) {
      throw new SpecException(
          spec, "an exec= device is a separate program; route=in-process is impossible");
    }
    boolean posted = onOff(spec, keys.getOrDefault("posted", "off"));
    if (posted && route != Route.IOREGIONFD) {
      throw new SpecException(spec, "posted=on needs route=ioregionfd");
    }
    if (keys.containsKey("name") && keys.get("name").isBlank()) {
      throw new SpecException(spec, "name= needs a name");
    }
    String name =
        keys.getOrDefault(
            "name",
            (kind == DeviceKind.EXEC ? program.getFileName().toString() : kind.label())
                + String.format("@%s0x%x", pio ? "pio:" : "", base));
    List<Integer> irqs =
        keys.containsKey("irq")
            ? gsis(spec, "irq", keys.get("irq"))
            : defaultIrqs(kind, pio, base, route);
    List<Integer> edgeIrqs =
        keys.containsKey("edge-irq") ? gsis(spec, "edge-irq", keys.get("edge-irq")) : List.of();
    List<MsiRoute> msis = msis(spec, keys.get("msi"), edgeIrqs);
    boolean stdin = input(spec, keys.getOrDefault("input", "none"));
    if (stdin && kind != DeviceKind.UART) {
      throw new SpecException(spec, "input= is only for uart");
    }
    boolean given = keys.containsKey("irq") || keys.containsKey("edge-irq") || stdin;
    if (given && (irqs.size() + edgeIrqs.size() > 0 || stdin)) {
      if (kind == DeviceKind.EXEC) {
        throw new SpecException(
            spec, "an exec= device gets no irqfds or input (only toykvm's device models do)");
      }
      if (route == Route.IN_PROCESS) {
        throw new SpecException(
            spec,
            "route=in-process has no irqfds or input (they are a device process's); use"
                + " route=ioregionfd or route=vmm");
      }
    }
    return new DeviceSpec(
        kind, program, pio, base, size, route, posted, name, irqs, edgeIrqs, msis, stdin);
  }

  /** {@code msi=GSI:ADDRESS:DATA[+...]}: each GSI one of the device's edge lines. */
  private static List<MsiRoute> msis(String spec, String text, List<Integer> edgeIrqs) {
    if (text == null) {
      return List.of();
    }
    List<MsiRoute> routes;
    try {
      routes = MsiRoute.parseAll(text);
    } catch (IllegalArgumentException e) {
      throw new SpecException(spec, "msi=" + text + ": " + e.getMessage());
    }
    for (MsiRoute r : routes) {
      if (!edgeIrqs.contains(r.gsi())) {
        throw new SpecException(
            spec,
            "msi="
                + text
                + ": GSI "
                + r.gsi()
                + " is not one of the device's edge lines (add edge-irq="
                + r.gsi()
                + ")");
      }
    }
    return routes;
  }

  /** {@code GSI[+GSI...]} or {@code none}: distinct GSIs up to {@link #MAX_GSI}. */
  private static List<Integer> gsis(String spec, String key, String text) {
    if (text.equals("none")) {
      return List.of();
    }
    List<Integer> gsis = new java.util.ArrayList<>();
    for (String part : text.split("\\+", -1)) {
      if (!part.matches("[0-9]{1,5}") || Integer.parseInt(part) > MAX_GSI) {
        throw new SpecException(
            spec,
            key
                + "="
                + text
                + ": '"
                + part
                + "' is not a GSI (0.."
                + MAX_GSI
                + "; several are joined with +)");
      }
      int gsi = Integer.parseInt(part);
      if (gsis.contains(gsi)) {
        throw new SpecException(spec, key + "=" + text + " names GSI " + gsi + " twice");
      }
      gsis.add(gsi);
    }
    return gsis;
  }

  private static boolean input(String spec, String text) {
    return switch (text) {
      case "stdin" -> true;
      case "none" -> false;
      default -> throw new SpecException(spec, "input=" + text + " is not stdin or none");
    };
  }

  /** Ports within 0..0xffff; addresses below the 36-bit guest-physical limit. */
  private static void checkRange(String spec, boolean pio, long base, long size) {
    // base is unsigned; size is below 2^63 (number() says so), so limit - base cannot overflow
    // once base is below the limit.
    long limit = pio ? PORT_LIMIT : MachineLayout.PHYS_LIMIT;
    if (pio && Long.compareUnsigned(base, limit) >= 0) {
      throw new SpecException(
          spec, String.format("port 0x%x is outside the 16-bit port space (0..0xffff)", base));
    }
    if (pio && size > limit - base) {
      throw new SpecException(
          spec,
          String.format(
              "ports 0x%x..0x%x do not fit the 16-bit port space (0..0xffff)",
              base, base + size - 1));
    }
    if (!pio && Long.compareUnsigned(base, limit) >= 0) {
      throw new SpecException(
          spec,
          String.format(
              "address 0x%x is above the 36-bit guest-physical space (0..0x%x)", base, limit - 1));
    }
    if (!pio && size > limit - base) {
      throw new SpecException(
          spec,
          String.format(
              "the MMIO range 0x%x..0x%x passes the 36-bit guest-physical limit 0x%x",
              base, base + size - 1, limit - 1));
    }
  }

  private static final Pattern NUMBER = Pattern.compile("0x[0-9a-f]+|[0-9]+");

  /**
   * A decimal or 0x hex number of at most 64 bits; an {@code address} (a port or MMIO base) may use
   * all 64 (it is unsigned, and checked against its space), anything else must be below 2^63.
   */
  static long number(String spec, String key, String text, boolean address) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.startsWith("-")) {
      throw new SpecException(spec, key + "=" + text + " is negative");
    }
    if (!NUMBER.matcher(t).matches()) {
      throw new SpecException(spec, key + "=" + text + " is not a number (decimal or 0x hex)");
    }
    long value;
    try {
      value =
          t.startsWith("0x")
              ? Long.parseUnsignedLong(t.substring(2), 16)
              : Long.parseUnsignedLong(t, 10);
    } catch (NumberFormatException e) {
      throw new SpecException(spec, key + "=" + text + " is too large"); // more than 64 bits
    }
    if (value < 0 && !address) {
      throw new SpecException(spec, key + "=" + text + " is too large");
    }
    return value;
  }

  static Route route(String spec, String text) {
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

  /**
   * Whether {@code address} (a port or guest-physical address on this bus) is in the device; never
   * for a PCI function, whose BARs move ({@link DeviceManager} asks where they are).
   */
  boolean covers(boolean onPio, long address) {
    return !pci() && onPio == pio && address >= base && address - base < size;
  }
}
