package dev.toykvm.vmm;

/**
 * The toykvm PC: where everything sits in guest-physical and I/O space. The firmware in {@code
 * guest-firmware/} is built against the same numbers.
 *
 * <pre>
 * guest-physical                     what
 * 0x0000_0000 - 0x0009_ffff          RAM, 640 KiB (slot 2)
 * 0x000a_0000 - 0x000e_ffff          nothing (accesses exit to the VMM: all-ones, ignored)
 * 0x000f_0000 - 0x000f_ffff          ROM, read-only alias of the firmware (slot 1)
 * 0x0010_0000 - below4g - 1          RAM above 1 MiB (slot 3); below4g = min(memory, 3 GiB)
 * 0xc000_0000 - 0xffff_ffff          the PCI hole when memory is above 3 GiB (BARs, APICs, ROM)
 * 0xffff_0000 - 0xffff_ffff          ROM, read-only: the firmware, reset vector at 0xffff_fff0 (slot 0)
 * 0x1_0000_0000 - 4 GiB + memory - 3 GiB - 1
 *                                    RAM above 4 GiB (slot 4), when memory is above 3 GiB
 *
 * I/O port                           what
 * 0x0f4                              debug exit: the byte written is the VM's exit status
 * 0x3f8 - 0x3ff                      COM1, a 16550 UART; output goes to the VMM's stdout
 * </pre>
 */
public final class MachineLayout {
  private MachineLayout() {}

  /** The firmware image: exactly this many bytes. */
  public static final int ROM_SIZE = 0x1_0000;

  /** The firmware below 4 GiB, where the reset vector (0xffff_fff0) is. */
  public static final long ROM_HIGH_BASE = 0xffff_0000L;

  /** The firmware's alias in the legacy BIOS area, where real-mode code at F000:xxxx runs. */
  public static final long ROM_LOW_BASE = 0xf_0000L;

  /** Conventional memory: 640 KiB from 0. */
  public static final long LOW_RAM_SIZE = 0xa_0000L;

  /** Extended memory starts at 1 MiB. */
  public static final long HIGH_RAM_BASE = 0x10_0000L;

  /** Default total memory (the top of extended memory). */
  public static final long DEFAULT_MEMORY = 16L << 20;

  /** Smallest {@code --memory}: 2 MiB, so that there is RAM above 1 MiB. */
  public static final long MIN_MEMORY = 2L << 20;

  /**
   * Largest {@code --memory}: 32 GiB, 3 GiB of it below the 32-bit hole and 29 GiB from 4 GiB up
   * (ending at 33 GiB, below {@link #PHYS_LIMIT}).
   */
  public static final long MAX_MEMORY = 32L << 30;

  /** The most RAM below 4 GiB: above this much memory, the rest goes to {@link #RAM_ABOVE_4G}. */
  public static final long RAM_BELOW_4G_MAX = dev.toykvm.vmm.boot.RamSplit.BELOW_4G_MAX;

  /** Where RAM above the 32-bit hole starts (QEMU's pc machine: 4 GiB). */
  public static final long RAM_ABOVE_4G = dev.toykvm.vmm.boot.RamSplit.ABOVE_4G_BASE;

  /** Memory slot ids. */
  public static final int SLOT_ROM_HIGH = 0;

  public static final int SLOT_ROM_LOW = 1;
  public static final int SLOT_LOW_RAM = 2;
  public static final int SLOT_HIGH_RAM = 3;

  /** RAM from 4 GiB up ({@link #RAM_ABOVE_4G}), only when the memory is above 3 GiB. */
  public static final int SLOT_RAM_ABOVE_4G = 4;

  /** The first of the 13 slots of the chipset's PAM map of 0xc0000-0xfffff (PciSetup). */
  public static final int SLOT_PAM_FIRST = 16;

  /**
   * The end of guest-physical space: toykvm's CPU has 36 address bits (64 GiB), as the kernel side
   * maps it. A device must sit below this.
   */
  public static final long PHYS_LIMIT = 1L << 36;

  /** The debug-exit port. */
  public static final int DEBUG_EXIT_PORT = 0xf4;

  /** COM1's I/O base (PC convention; IRQ 4 once interrupts exist). */
  public static final int COM1_BASE = 0x3f8;
}
