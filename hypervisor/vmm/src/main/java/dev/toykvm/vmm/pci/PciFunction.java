package dev.toykvm.vmm.pci;

/**
 * One PCI function as configuration mechanism #1 reaches it: reads and writes of 1, 2 or 4 bytes at
 * a register offset (0-255) that the access does not cross the end of a dword with.
 */
public interface PciFunction {
  /** Reads {@code size} bytes at {@code offset}, little-endian in the low bytes. */
  int readConfig(int offset, int size);

  /** Writes the low {@code size} bytes of {@code value} at {@code offset}. */
  void writeConfig(int offset, int size, int value);
}
