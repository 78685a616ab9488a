package dev.toykvm.vmm.pci;

/**
 * Where a BAR is decoded right now: its register number (0-5), whether it is I/O space, its address
 * and size.
 */
public record BarMapping(int bar, boolean io, long address, long size) {
  @Override
  public String toString() {
    return "BAR%d %s 0x%x+0x%x".formatted(bar, io ? "io" : "mem", address, size);
  }
}
