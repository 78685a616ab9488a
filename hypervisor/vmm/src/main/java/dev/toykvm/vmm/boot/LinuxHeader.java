package dev.toykvm.vmm.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The setup header of a Linux/x86 bzImage (the kernel's {@code Documentation/arch/x86/boot.rst}):
 * the fields a boot loader reads, checked against the file. The header sits at offset 0x1f1 of the
 * file and is copied, as the file holds it, into {@code boot_params} at the same offset.
 *
 * <p>toykvm accepts protocol 2.02 and later with {@code LOADED_HIGH} set: 2.02 brought {@code
 * cmd_line_ptr} (a 32-bit pointer to the command line), which is how a loader that never runs the
 * real-mode setup passes it (older protocols use a real-mode offset); {@code LOADED_HIGH} (a
 * bzImage) says the protected-mode part is meant to be loaded at 1 MiB. Older kernels (zImage,
 * protocol 2.00/2.01) need the real-mode setup and the 0x90000 layout, which this machine (no BIOS)
 * cannot give them.
 *
 * @param setupSects the number of 512-byte setup sectors after the boot sector (0 read as 4)
 * @param version the protocol version, e.g. 0x020f for 2.15
 * @param loadflags the {@code loadflags} byte
 * @param code32Start where the protected-mode part is loaded and entered (32-bit protocol)
 * @param initrdAddrMax the highest address the initrd's last byte may have (0x37ffffff before 2.03)
 * @param cmdlineSize the longest command line, without its NUL (255 before 2.06)
 * @param xloadflags the {@code xloadflags} (0 before 2.12)
 * @param initSize the bytes of memory the kernel needs from where it runs (2.10+; before, the size
 *     of the protected-mode part)
 * @param prefAddress where the kernel runs, decompressed (2.10+ {@code pref_address}: a relocatable
 *     kernel's decompressor moves it there when loaded lower); before 2.10, 0
 * @param headerEnd the first byte after the header in the file (0x202 + the byte at 0x201)
 */
public record LinuxHeader(
    int setupSects,
    int version,
    int loadflags,
    long code32Start,
    long initrdAddrMax,
    long cmdlineSize,
    int xloadflags,
    long initSize,
    long prefAddress,
    int headerEnd) {
  /** Offset of the setup header in the file and in {@code boot_params}. */
  public static final int OFFSET = 0x1f1;

  /** {@code boot_flag}: 0xAA55 at 0x1fe. */
  public static final int BOOT_FLAG = 0xaa55;

  /** {@code header}: "HdrS" at 0x202. */
  public static final int MAGIC = 0x5372_6448;

  /** The oldest protocol accepted: 2.02 (see the class comment). */
  public static final int MIN_VERSION = 0x0202;

  /** {@code loadflags} bit 0: the protected-mode part is loaded at 0x100000. */
  public static final int LOADED_HIGH = 0x01;

  /** {@code loadflags} bit 7: {@code heap_end_ptr} is valid. */
  public static final int CAN_USE_HEAP = 0x80;

  /** {@code xloadflags} bit 0: the kernel has the 64-bit entry at load address + 0x200. */
  public static final int XLF_KERNEL_64 = 0x01;

  /** Where {@code boot_params}' copy of the header ends at most (the fields after it start). */
  static final int MAX_HEADER_END = 0x290;

  /** Whether {@code file} looks like a bzImage: 0xAA55 at 0x1fe and "HdrS" at 0x202. */
  public static boolean isLinux(byte[] file) {
    if (file.length < 0x206) {
      return false;
    }
    ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    return (b.getShort(0x1fe) & 0xffff) == BOOT_FLAG && b.getInt(0x202) == MAGIC;
  }

  /**
   * Reads and checks the header of {@code file}.
   *
   * @throws BootFormatException if it is not a bzImage this loader can boot: protocol older than
   *     2.02, not {@code LOADED_HIGH}, the setup or protected-mode part cut short by the end of the
   *     file
   */
  public static LinuxHeader parse(byte[] file) {
    if (!isLinux(file)) {
      throw new BootFormatException("not a Linux bzImage (no 0xAA55 at 0x1fe and HdrS at 0x202)");
    }
    ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    int version = b.getShort(0x206) & 0xffff;
    if (version < MIN_VERSION) {
      throw new BootFormatException(
          String.format(
              "Linux boot protocol %s is too old: toykvm needs 2.02 or later (cmd_line_ptr)",
              versionText(version)));
    }
    if (file.length < 0x268) {
      throw new BootFormatException(
          "the setup header is cut short by the end of the " + file.length + "-byte file");
    }
    int loadflags = file[0x211] & 0xff;
    if ((loadflags & LOADED_HIGH) == 0) {
      throw new BootFormatException(
          "not a bzImage (LOADED_HIGH clear): a zImage needs the real-mode loader at 0x10000");
    }
    int setupSects = file[OFFSET] & 0xff;
    if (setupSects == 0) {
      setupSects = 4;
    }
    long setupBytes = (setupSects + 1L) * 512;
    if (setupBytes >= file.length) {
      throw new BootFormatException(
          String.format(
              "%d setup sectors (%d bytes) leave nothing of the %d-byte file for the kernel",
              setupSects, setupBytes, file.length));
    }
    long pmBytes = file.length - setupBytes;
    long syssize = version >= 0x0204 ? b.getInt(0x1f4) & 0xffff_ffffL : b.getShort(0x1f4) & 0xffffL;
    if (syssize * 16 > pmBytes + 15) {
      throw new BootFormatException(
          String.format(
              "the protected-mode part is cut short: syssize says %d bytes, the file holds %d",
              syssize * 16, pmBytes));
    }
    int headerEnd = Math.min(0x202 + (file[0x201] & 0xff), MAX_HEADER_END);
    long code32Start = b.getInt(0x214) & 0xffff_ffffL;
    long initrdAddrMax = version >= 0x0203 ? b.getInt(0x22c) & 0xffff_ffffL : 0x37ff_ffffL;
    long cmdlineSize = version >= 0x0206 ? b.getInt(0x238) & 0xffff_ffffL : 255;
    int xloadflags = version >= 0x020c ? b.getShort(0x236) & 0xffff : 0;
    long initSize = version >= 0x020a ? b.getInt(0x260) & 0xffff_ffffL : 0;
    initSize = Math.max(initSize, pmBytes);
    long prefAddress = version >= 0x020a ? b.getLong(0x258) : 0;
    return new LinuxHeader(
        setupSects,
        version,
        loadflags,
        code32Start,
        initrdAddrMax,
        cmdlineSize,
        xloadflags,
        initSize,
        prefAddress,
        headerEnd);
  }

  /** The offset of the protected-mode part in the file. */
  public int setupBytes() {
    return (setupSects + 1) * 512;
  }

  /**
   * Where the kernel's {@code init_size} bytes start when it is loaded at {@code load}: the higher
   * of the two, since the decompressor of a kernel loaded below {@code pref_address} moves it there
   * (its LOAD_PHYSICAL_ADDR) before it looks at the memory map.
   */
  public long runAddress(long load) {
    return Math.max(load, prefAddress);
  }

  /** Whether the kernel has the 64-bit entry point. */
  public boolean has64BitEntry() {
    return (xloadflags & XLF_KERNEL_64) != 0;
  }

  static String versionText(int version) {
    return (version >> 8) + "." + String.format("%02d", version & 0xff);
  }
}
