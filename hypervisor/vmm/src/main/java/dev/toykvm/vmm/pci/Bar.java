package dev.toykvm.vmm.pci;

/**
 * One base address register of a type 0 header: what kind of space the function decodes and how
 * much. A 64-bit memory BAR takes two registers (its number and the next).
 *
 * @param kind I/O, 32-bit memory or 64-bit memory
 * @param size bytes decoded: a power of two, at least 4 for I/O (at most 256, as PCI allows) and 16
 *     for memory (at most 2 GiB for a 32-bit BAR, 2^40 for a 64-bit one)
 * @param prefetchable the memory BAR's prefetchable bit (false for I/O)
 */
public record Bar(Kind kind, long size, boolean prefetchable) {

  /** The three kinds of BAR. */
  public enum Kind {
    IO,
    MEMORY32,
    MEMORY64;

    /** Registers the BAR takes in the header. */
    public int registers() {
      return this == MEMORY64 ? 2 : 1;
    }
  }

  public Bar {
    long min = kind == Kind.IO ? 4 : 16;
    long max =
        switch (kind) {
          case IO -> 256;
          case MEMORY32 -> 1L << 31;
          case MEMORY64 -> 1L << 40;
        };
    if (Long.bitCount(size) != 1 || size < min || size > max) {
      throw new IllegalArgumentException(
          "cannot describe a %s BAR of 0x%x bytes: its size must be a power of two from 0x%x to 0x%x"
              .formatted(kind, size, min, max));
    }
    if (kind == Kind.IO && prefetchable) {
      throw new IllegalArgumentException("cannot describe an I/O BAR as prefetchable");
    }
  }

  public static Bar io(long size) {
    return new Bar(Kind.IO, size, false);
  }

  public static Bar memory32(long size) {
    return new Bar(Kind.MEMORY32, size, false);
  }

  public static Bar memory64(long size, boolean prefetchable) {
    return new Bar(Kind.MEMORY64, size, prefetchable);
  }

  /** The read-only low bits of the BAR's (first) register: space, type and prefetchable. */
  int flags() {
    return switch (kind) {
      case IO -> 0x1;
      case MEMORY32 -> prefetchable ? 0x8 : 0x0;
      case MEMORY64 -> 0x4 | (prefetchable ? 0x8 : 0x0);
    };
  }
}
