package dev.toykvm.vmm.boot;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads a Linux/x86 bzImage as QEMU's and kvmtool's {@code -kernel} do, but enters it through the
 * 32-bit (or 64-bit) boot protocol instead of the real-mode setup: this machine has no BIOS, and
 * the setup code calls INT 10h, 15h and 16h. The VMM does what the setup would: it builds {@code
 * boot_params} ({@link BootParams}) with the e820 map of {@link PcMemoryMap}.
 *
 * <pre>
 * 0x6000    GDT (__BOOT_CS 0x10, __BOOT_DS 0x18)
 * 0x7000    boot_params (the zero page)
 * 0x9000    page tables, 64-bit entry only (PML4, PDPT, 4 page directories: 4 GiB identity)
 * 0x20000   the command line (NUL-terminated, at most cmdline_size bytes before the NUL)
 * code32_start (0x100000)   the protected-mode part of the file; RAM checked up to init_size
 *                           bytes after it, or after pref_address if that is higher (where a
 *                           relocatable kernel's decompressor moves it)
 * the initrd: page-aligned, as high as initrd_addr_max and the top of RAM allow
 * </pre>
 */
public final class LinuxLoader {
  private LinuxLoader() {}

  public static final long GDT_BASE = 0x6000;
  public static final long BOOT_PARAMS = 0x7000;
  public static final long PAGE_TABLES = 0x9000;
  public static final long CMDLINE = 0x2_0000;

  /** The room for the command line, its NUL included. */
  static final long CMDLINE_ROOM = 0x1_0000;

  static final long PAGE = 4096;

  /**
   * Plans the boot of {@code kernel}.
   *
   * @param cmdline the command line as the kernel sees it (QEMU's {@code -append}, unchanged)
   * @param initrd the initrd's bytes, or {@code null}
   * @param entry64 enter through the 64-bit protocol (the kernel must have XLF_KERNEL_64)
   * @throws BootFormatException if the file is not a kernel this loader can boot, or the kernel,
   *     its command line or initrd do not fit
   */
  public static BootPlan plan(
      byte[] kernel, String cmdline, byte[] initrd, List<E820Entry> map, boolean entry64) {
    LinuxHeader h = LinuxHeader.parse(kernel);
    if (entry64 && !h.has64BitEntry()) {
      throw new BootFormatException(
          "the kernel has no 64-bit entry (XLF_KERNEL_64 clear in xloadflags): boot it 32-bit");
    }
    long load = h.code32Start();
    long run = h.runAddress(load);
    long kernelEnd = Math.max(load + kernel.length - h.setupBytes(), run + h.initSize());
    if (load < PcMemoryMap.HIGH_RAM_BASE || !PcMemoryMap.isRam(map, load, kernelEnd)) {
      throw new BootFormatException(
          String.format(
              "the kernel needs [0x%x, 0x%x) in RAM above 1 MiB (code32_start 0x%x, runs at"
                  + " 0x%x with init_size %d bytes); RAM ends at 0x%x",
              load, kernelEnd, load, run, h.initSize(), ramTop(map)));
    }
    byte[] cmd = cmdline.getBytes(StandardCharsets.UTF_8);
    long cmdMax = Math.min(h.cmdlineSize(), CMDLINE_ROOM - 1);
    if (cmd.length > cmdMax) {
      throw new BootFormatException(
          String.format(
              "the command line is %d bytes; the kernel takes at most %d (cmdline_size)",
              cmd.length, cmdMax));
    }
    long initrdAddress = 0;
    long initrdSize = initrd == null ? 0 : initrd.length;
    if (initrd != null) {
      long limit = Math.min(h.initrdAddrMax() + 1, ramTop(map));
      initrdAddress = (limit - initrdSize) & -PAGE;
      if (initrdSize > limit || initrdAddress < align(kernelEnd)) {
        throw new BootFormatException(
            String.format(
                "the initrd (%d bytes) does not fit between the kernel's end 0x%x and 0x%x"
                    + " (initrd_addr_max 0x%x, top of RAM 0x%x)",
                initrdSize, kernelEnd, limit, h.initrdAddrMax(), ramTop(map)));
      }
    }
    List<LoadSegment> pieces = new ArrayList<>();
    byte[] pm = new byte[kernel.length - h.setupBytes()];
    System.arraycopy(kernel, h.setupBytes(), pm, 0, pm.length);
    pieces.add(new LoadSegment(load, pm, pm.length));
    if (initrd != null) {
      pieces.add(new LoadSegment(initrdAddress, initrd, initrd.length));
    }
    byte[] params = BootParams.build(kernel, h, map, load, CMDLINE, initrdAddress, initrdSize);
    pieces.add(new LoadSegment(BOOT_PARAMS, params, params.length));
    byte[] cmdz = new byte[cmd.length + 1];
    System.arraycopy(cmd, 0, cmdz, 0, cmd.length);
    pieces.add(new LoadSegment(CMDLINE, cmdz, cmdz.length));
    pieces.add(new LoadSegment(GDT_BASE, LinuxEntry.gdt(entry64), 32));
    if (entry64) {
      byte[] tables = LinuxEntry.pageTables(PAGE_TABLES);
      pieces.add(new LoadSegment(PAGE_TABLES, tables, tables.length));
      return new BootPlan(
          pieces, load + 0x200, BOOT_PARAMS, GDT_BASE, BootPlan.Protocol.LINUX_64, PAGE_TABLES);
    }
    return new BootPlan(pieces, load, BOOT_PARAMS, GDT_BASE, BootPlan.Protocol.LINUX_32, 0);
  }

  /** The end of the RAM range that starts at 1 MiB: the top of RAM. */
  static long ramTop(List<E820Entry> map) {
    return PcMemoryMap.HIGH_RAM_BASE + MultibootInfo.upperMemory(map);
  }

  private static long align(long a) {
    return (a + PAGE - 1) & -PAGE;
  }
}
