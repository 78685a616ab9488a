package dev.toykvm.vmm.pci;

import java.util.ArrayList;
import java.util.List;

/**
 * PCI bus 0: up to 32 devices of up to 8 functions each, by device/function number. Functions are
 * added while the machine is built; lookups afterwards take no lock (the table is published whole).
 * A slot with no function reads all-ones, which firmware takes for "absent".
 */
public final class PciBus {
  public static final int DEVICES = 32;
  public static final int FUNCTIONS = 8;

  private volatile PciFunction[] functions = new PciFunction[DEVICES * FUNCTIONS];

  /**
   * Puts {@code function} at {@code device}.{@code fn}.
   *
   * @throws IllegalArgumentException if the numbers are out of range or the slot is taken
   */
  public synchronized void add(int device, int fn, PciFunction function) {
    if (device < 0 || device >= DEVICES || fn < 0 || fn >= FUNCTIONS) {
      throw new IllegalArgumentException(
          "cannot add a PCI function at %02x.%x: device 0-31, function 0-7".formatted(device, fn));
    }
    int devfn = device << 3 | fn;
    if (functions[devfn] != null) {
      throw new IllegalArgumentException(
          "cannot add a PCI function at 00:%02x.%x: the slot is taken".formatted(device, fn));
    }
    PciFunction[] copy = functions.clone();
    copy[devfn] = function;
    functions = copy;
  }

  /** The function at {@code devfn} (device << 3 | function), or {@code null}. */
  public PciFunction function(int devfn) {
    return functions[devfn];
  }

  /** The occupied slots as "00:DD.F" strings, in order, for listings. */
  public List<String> describe() {
    List<String> out = new ArrayList<>();
    PciFunction[] f = functions;
    for (int i = 0; i < f.length; i++) {
      if (f[i] != null) {
        out.add("00:%02x.%x".formatted(i >> 3, i & 7));
      }
    }
    return out;
  }
}
