package dev.toykvm.vmm.boot;

/**
 * How a machine's RAM is split around the 32-bit PCI hole, as QEMU's i440FX {@code pc} machine
 * splits it ({@code pc_init1} in {@code hw/i386/pc_piix.c}: with gigabyte alignment the RAM below 4
 * GiB is at most 3 GiB once the RAM reaches its {@code max_ram_below_4g}, and the rest starts at 4
 * GiB). toykvm's rule is the same with one threshold: up to {@link #BELOW_4G_MAX} (3 GiB) all RAM
 * is below 4 GiB; above it, 3 GiB is below and the rest is at {@link #ABOVE_4G_BASE}. (QEMU keeps
 * up to 3.5 GiB below 4 GiB when the RAM is less than 3.5 GiB; toykvm splits from 3 GiB on, so a
 * 3.25 GiB machine differs: 3 GiB + 256 MiB here, 3.25 GiB + 0 on QEMU. From 3.5 GiB up both
 * agree.)
 *
 * @param below4g bytes of RAM from address 0 up (the PC's holes below 1 MiB included)
 * @param above4g bytes of RAM from 4 GiB up, 0 if none
 */
public record RamSplit(long below4g, long above4g) {
  /** The most RAM below 4 GiB: the PCI hole starts at 3 GiB (0xc000_0000). */
  public static final long BELOW_4G_MAX = 3L << 30;

  /** Where RAM above the hole starts: 4 GiB. */
  public static final long ABOVE_4G_BASE = 1L << 32;

  /**
   * @throws IllegalArgumentException if a part is negative, or there is RAM above 4 GiB while the
   *     part below is not {@link #BELOW_4G_MAX}
   */
  public RamSplit {
    if (below4g <= 0 || above4g < 0 || below4g > BELOW_4G_MAX) {
      throw new IllegalArgumentException(
          "cannot split RAM as 0x%x below and 0x%x above 4 GiB".formatted(below4g, above4g));
    }
    if (above4g > 0 && below4g != BELOW_4G_MAX) {
      throw new IllegalArgumentException(
          "cannot split RAM as 0x%x below and 0x%x above 4 GiB: RAM goes above 4 GiB only once 3 GiB are below"
              .formatted(below4g, above4g));
    }
  }

  /**
   * The split of {@code memory} bytes of RAM in total.
   *
   * @throws IllegalArgumentException if {@code memory} is not positive
   */
  public static RamSplit of(long memory) {
    if (memory <= 0) {
      throw new IllegalArgumentException("cannot split 0x%x bytes of RAM".formatted(memory));
    }
    return memory <= BELOW_4G_MAX
        ? new RamSplit(memory, 0)
        : new RamSplit(BELOW_4G_MAX, memory - BELOW_4G_MAX);
  }

  /** The RAM in total. */
  public long total() {
    return below4g + above4g;
  }

  /** The first address past the RAM above 4 GiB ({@link #ABOVE_4G_BASE} if there is none). */
  public long above4gEnd() {
    return ABOVE_4G_BASE + above4g;
  }

  /**
   * The top of guest-physical RAM: the first address past the last RAM byte, and the size of a
   * memory file where file offset = guest-physical address holds all of it (the hole at 3-4 GiB is
   * never written there, so it takes no room in a sparse file).
   */
  public long top() {
    return above4g == 0 ? below4g : above4gEnd();
  }
}
