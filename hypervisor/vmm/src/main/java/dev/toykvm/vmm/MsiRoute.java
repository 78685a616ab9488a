package dev.toykvm.vmm;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One MSI route a device asks the VMM for ({@code --device ...,msi=GSI:ADDRESS:DATA}): raising
 * {@code gsi} sends the message {@code data} to {@code address}, as a PCI device's MSI capability
 * would. The VMM puts it in the GSI routing table ({@link GsiRoutes}, {@code KVM_SET_GSI_ROUTING}),
 * so a device's edge irqfd on that GSI becomes an MSI with no VMM thread involved.
 *
 * <p>x86's format (Intel SDM vol. 3, "Message Signalled Interrupts"): the address is in the local
 * APICs' window 0xfee00000-0xfeefffff, destination ID in bits 19-12, bit 3 the redirection hint,
 * bit 2 logical destination mode; the data has the vector in bits 7-0, the delivery mode in bits
 * 10-8 and the trigger mode in bit 15. So {@code msi=24:0xfee00000:0x61} is vector 0x61, fixed, to
 * APIC ID 0.
 *
 * @param gsi the GSI, from {@link #FIRST_GSI} (GSIs below it keep KVM's default routes to the PICs
 *     and the I/O APIC) to {@link DeviceSpec#MAX_GSI}
 * @param address the message address (in the local APICs' window)
 * @param data the message data (32 bits)
 */
public record MsiRoute(int gsi, long address, int data) {

  /** The first GSI an MSI route may take: 0-23 are the I/O APIC's pins in KVM's default table. */
  public static final int FIRST_GSI = 24;

  /** The local APICs' window, where every x86 MSI is written. */
  public static final long WINDOW_BASE = 0xfee0_0000L;

  /** The window's size: address bits 19-0 carry the destination and the modes. */
  public static final long WINDOW_SIZE = 0x10_0000L;

  public MsiRoute {
    if (gsi < FIRST_GSI || gsi > DeviceSpec.MAX_GSI) {
      throw new IllegalArgumentException("GSI " + gsi + " is not in " + FIRST_GSI + "..4095");
    }
    if (address < WINDOW_BASE || address >= WINDOW_BASE + WINDOW_SIZE) {
      throw new IllegalArgumentException(
          String.format("address 0x%x is not in the MSI window 0xfee00000..0xfeefffff", address));
    }
  }

  /**
   * Parses the value of {@code msi=}: {@code GSI:ADDRESS:DATA}, several joined with {@code +}.
   * Numbers are decimal or {@code 0x} hex.
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  static List<MsiRoute> parseAll(String text) {
    List<MsiRoute> routes = new ArrayList<>();
    for (String one : text.split("\\+", -1)) {
      String[] f = one.split(":", -1);
      if (f.length != 3) {
        throw new IllegalArgumentException("'" + one + "' is not GSI:ADDRESS:DATA");
      }
      MsiRoute r =
          new MsiRoute(
              (int) number(f[0], 0xfff),
              number(f[1], 0xffff_ffffL),
              (int) number(f[2], 0xffff_ffffL));
      if (routes.stream().anyMatch(o -> o.gsi() == r.gsi())) {
        throw new IllegalArgumentException("GSI " + r.gsi() + " is routed twice");
      }
      routes.add(r);
    }
    return routes;
  }

  /** The route as {@code GSI:ADDRESS:DATA}. */
  @Override
  public String toString() {
    return String.format("%d:0x%x:0x%x", gsi, address, data);
  }

  /** A decimal or 0x hex number up to {@code max}. */
  private static long number(String text, long max) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    long v;
    try {
      v = t.startsWith("0x") ? Long.parseLong(t.substring(2), 16) : Long.parseLong(t, 10);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is not a number (decimal or 0x hex)");
    }
    if (v < 0 || v > max) {
      throw new IllegalArgumentException(
          String.format("'%s' is out of range (0..0x%x)", text, max));
    }
    return v;
  }
}
