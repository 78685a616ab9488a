package dev.toykvm.vmm.boot;

import java.util.ArrayList;
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
 * [0x100000, below4g)    RAM (below4g: the memory, at most 3 GiB: {@link RamSplit})
 * [3 GiB, 4 GiB)         not listed (the PCI hole: BARs, I/O APIC, LAPIC, the BIOS at the top)
 * [4 GiB, 4 GiB + rest)  RAM, if the memory is above 3 GiB
 * </pre>
 *
 * <p>QEMU's {@code etc/e820} lists [0, below4g) and [4 GiB, 4 GiB + above4g) as RAM and leaves the
 * holes below 1 MiB to SeaBIOS, which reserves them in its own table; toykvm lists them, as the
 * table a guest gets from SeaBIOS on QEMU would.
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
    RamSplit split = RamSplit.of(memory);
    List<E820Entry> map = new ArrayList<>();
    map.add(new E820Entry(0, EBDA, E820Entry.RAM));
    map.add(new E820Entry(EBDA, LOW_RAM_END - EBDA, E820Entry.RESERVED));
    map.add(new E820Entry(BIOS_BASE, HIGH_RAM_BASE - BIOS_BASE, E820Entry.RESERVED));
    map.add(new E820Entry(HIGH_RAM_BASE, split.below4g() - HIGH_RAM_BASE, E820Entry.RAM));
    if (split.above4g() > 0) {
      map.add(new E820Entry(RamSplit.ABOVE_4G_BASE, split.above4g(), E820Entry.RAM));
    }
    return List.copyOf(map);
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
