package dev.toykvm.vmm.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * A Multiboot (version 0.6.96) header, found as the specification says: 32-bit aligned within the
 * first 8192 bytes of the file, with magic {@code 0x1BADB002} and a checksum that makes the three
 * first fields sum to zero.
 *
 * @param offset where the header starts in the file
 * @param flags the requirements and features the kernel asks for
 * @param headerAddr with {@link #AOUT_KLUDGE}: the physical address of the header itself
 * @param loadAddr with {@link #AOUT_KLUDGE}: where the text segment starts
 * @param loadEndAddr with {@link #AOUT_KLUDGE}: where the data to load ends (0: end of file)
 * @param bssEndAddr with {@link #AOUT_KLUDGE}: where the bss ends (0: no bss)
 * @param entryAddr with {@link #AOUT_KLUDGE}: the entry point
 */
public record MultibootHeader(
    int offset,
    int flags,
    long headerAddr,
    long loadAddr,
    long loadEndAddr,
    long bssEndAddr,
    long entryAddr) {
  public static final int MAGIC = 0x1BADB002;

  /** The search window of the specification. */
  public static final int SEARCH_BYTES = 8192;

  /** Modules must be loaded on 4 KiB boundaries. */
  public static final int PAGE_ALIGN = 1;

  /** The information structure must carry mem_lower/mem_upper and the memory map. */
  public static final int MEMORY_INFO = 1 << 1;

  /** The kernel wants a video mode; toykvm has no framebuffer and boots it in text mode. */
  public static final int VIDEO_MODE = 1 << 2;

  /** The address fields are valid: load the file as they say (the "a.out kludge"). */
  public static final int AOUT_KLUDGE = 1 << 16;

  /** Bits 0-15 are requirements: a loader that does not know one must refuse the kernel. */
  static final int REQUIRED_MASK = 0xffff;

  static final int KNOWN = PAGE_ALIGN | MEMORY_INFO | VIDEO_MODE | AOUT_KLUDGE;

  /** The header of {@code file}, if it has one. */
  public static Optional<MultibootHeader> find(byte[] file) {
    ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    int limit = Math.min(file.length, SEARCH_BYTES) - 12;
    for (int off = 0; off <= limit; off += 4) {
      if (b.getInt(off) != MAGIC) {
        continue;
      }
      int flags = b.getInt(off + 4);
      int checksum = b.getInt(off + 8);
      if (MAGIC + flags + checksum != 0) {
        continue;
      }
      long[] a = new long[5];
      if ((flags & AOUT_KLUDGE) != 0) {
        if (off + 32 > file.length) {
          throw new BootFormatException(
              "the multiboot header at offset " + off + " is cut short by the end of the file");
        }
        for (int i = 0; i < 5; i++) {
          a[i] = b.getInt(off + 12 + 4 * i) & 0xffff_ffffL;
        }
      }
      return Optional.of(new MultibootHeader(off, flags, a[0], a[1], a[2], a[3], a[4]));
    }
    return Optional.empty();
  }

  /**
   * @throws BootFormatException if the kernel requires a feature this loader does not have
   */
  public void checkSupported() {
    int unknown = flags & REQUIRED_MASK & ~KNOWN;
    if (unknown != 0) {
      throw new BootFormatException(
          String.format(
              "the kernel requires multiboot features this loader does not have (flags 0x%x)",
              unknown));
    }
  }

  /** Whether the address fields are to be used (bit 16). */
  public boolean aoutKludge() {
    return (flags & AOUT_KLUDGE) != 0;
  }

  /**
   * The segment the address fields describe: the file from {@code offset - (headerAddr - loadAddr)}
   * up to {@code loadEndAddr} (or the end of the file), then zeros up to {@code bssEndAddr}.
   *
   * @throws BootFormatException if the fields contradict each other or the file
   */
  public LoadSegment aoutSegment(byte[] file) {
    if (headerAddr < loadAddr) {
      throw new BootFormatException(
          String.format("header_addr 0x%x is below load_addr 0x%x", headerAddr, loadAddr));
    }
    long start = offset - (headerAddr - loadAddr);
    if (start < 0) {
      throw new BootFormatException(
          String.format("load_addr 0x%x would start %d bytes before the file", loadAddr, -start));
    }
    long length = loadEndAddr == 0 ? file.length - start : loadEndAddr - loadAddr;
    if (loadEndAddr != 0 && loadEndAddr < loadAddr) {
      throw new BootFormatException(
          String.format("load_end_addr 0x%x is below load_addr 0x%x", loadEndAddr, loadAddr));
    }
    if (start + length > file.length) {
      throw new BootFormatException(
          String.format(
              "load_end_addr 0x%x is %d bytes past the end of the file",
              loadEndAddr, start + length - file.length));
    }
    long memory = length;
    if (bssEndAddr != 0) {
      if (bssEndAddr < loadAddr + length) {
        throw new BootFormatException(
            String.format(
                "bss_end_addr 0x%x is below the end of the loaded data 0x%x",
                bssEndAddr, loadAddr + length));
      }
      memory = bssEndAddr - loadAddr;
    }
    byte[] bytes = new byte[(int) length];
    System.arraycopy(file, (int) start, bytes, 0, bytes.length);
    return new LoadSegment(loadAddr, bytes, memory);
  }
}
