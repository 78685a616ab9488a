package dev.toykvm.vmm.boot;

import java.util.List;

/**
 * The memory map of the PC a kernel boots on, as QEMU's {@code pc} machine reports it: the one
 * place it is built, for the multiboot information and fw_cfg's {@code etc/e820}.
 *
 * <pre>
 * [0, 0x9fc00)           RAM (conventional memory below the EBDA)
 * [0x9fc00, 0xa0000)     reserved (the extended BIOS data area)
 * [0xa0000, 0xf0000)     not listed (VGA window, option ROMs: no RAM there)
 * [0xf0000, 0x100000)    reserved (the BIOS)
 * [0x100000, memory)     RAM
 * </pre>
 */
public final class PcMemoryMap {
  private PcMemoryMap() {}

  /** Where the extended BIOS data area starts: the end of usable low RAM. */
  public static final long EBDA = 0x9_fc00L;

  /** The end of conventional memory (the VGA window starts here). */
  public static final long LOW_RAM_END = 0xa_0000L;

  /** The BIOS area below 1 MiB. */
  public static final long BIOS_BASE = 0xf_0000L;

  /** Extended memory starts at 1 MiB. */
  public static final long HIGH_RAM_BASE = 0x10_0000L;

  /**
   * The map of a machine with {@code memory} bytes of RAM in total (the top of extended memory).
   *
   * @throws IllegalArgumentException if {@code memory} is not above 1 MiB
   */
  public static List<E820Entry> of(long memory) {
    if (memory <= HIGH_RAM_BASE) {
      throw new IllegalArgumentException(
          "a PC needs RAM above 1 MiB, not a top of 0x" + Long.toHexString(memory));
    }
    return List.of(
        new E820Entry(0, EBDA, E820Entry.RAM),
        new E820Entry(EBDA, LOW_RAM_END - EBDA, E820Entry.RESERVED),
        new E820Entry(BIOS_BASE, HIGH_RAM_BASE - BIOS_BASE, E820Entry.RESERVED),
        new E820Entry(HIGH_RAM_BASE, memory - HIGH_RAM_BASE, E820Entry.RAM));
  }

  /** Whether all of {@code [base, end)} lies in one RAM range of {@code map}. */
  public static boolean isRam(List<E820Entry> map, long base, long end) {
    for (E820Entry e : map) {
      if (e.type() == E820Entry.RAM && base >= e.base() && end <= e.end() && base <= end) {
        return true;
      }
    }
    return false;
  }
}
