package dev.toykvm.vmm.boot;

/**
 * A piece of a kernel file to place in guest memory: {@code bytes} at guest-physical {@code
 * address}, followed by zeros up to {@code memorySize} (an ELF segment's bss).
 *
 * @param address guest-physical address of the first byte
 * @param bytes what the file holds for it (may be shorter than {@code memorySize})
 * @param memorySize bytes the segment occupies in memory, at least {@code bytes.length}
 */
public record LoadSegment(long address, byte[] bytes, long memorySize) {
  public LoadSegment {
    if (memorySize < bytes.length) {
      throw new IllegalArgumentException(
          "memorySize " + memorySize + " is smaller than the " + bytes.length + " bytes given");
    }
  }

  /** The first address after the segment. */
  public long end() {
    return address + memorySize;
  }
}
