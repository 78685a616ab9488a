package dev.toykvm.vmm.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Linux's {@code struct boot_params} (the "zero page", 4 KiB), as a loader that enters the kernel
 * through the 32- or 64-bit boot protocol fills it (boot.rst, "32-bit boot protocol"): zeroed, the
 * setup header copied from the file, then the loader's fields and what the real-mode setup would
 * have asked the BIOS (memory sizes and the e820 map). {@code screen_info} stays zero: no VGA text
 * console (orig_video_isVGA 0), so the kernel does not write to 0xb8000, where this machine has no
 * memory.
 */
public final class BootParams {
  private BootParams() {}

  /** The size of the structure. */
  public static final int SIZE = 4096;

  static final int EXT_MEM_K = 0x002;
  static final int EXT_RAMDISK_IMAGE = 0x0c0;
  static final int EXT_RAMDISK_SIZE = 0x0c4;
  static final int EXT_CMD_LINE_PTR = 0x0c8;
  static final int ALT_MEM_K = 0x1e0;
  static final int E820_ENTRIES = 0x1e8;
  static final int TYPE_OF_LOADER = 0x210;
  static final int LOADFLAGS = 0x211;
  static final int CODE32_START = 0x214;
  static final int RAMDISK_IMAGE = 0x218;
  static final int RAMDISK_SIZE = 0x21c;
  static final int HEAP_END_PTR = 0x224;
  static final int CMD_LINE_PTR = 0x228;
  static final int E820_TABLE = 0x2d0;

  /** The most e820 entries {@code boot_params} holds. */
  static final int E820_MAX = 128;

  /** "Undefined" boot loader: there is no ID assigned to toykvm (kvmtool sends the same). */
  public static final int LOADER_TYPE = 0xff;

  /**
   * QEMU's {@code heap_end_ptr}: the end of the setup heap, as an offset from the setup's start
   * minus 0x200. Only the real-mode setup uses it; it is set so that {@code CAN_USE_HEAP} is true.
   */
  static final int HEAP_END = 0xfe00;

  /**
   * Builds the structure.
   *
   * @param kernel the bzImage, whose setup header is copied
   * @param header the header read from it
   * @param map the machine's memory map
   * @param code32Start where the protected-mode part was loaded
   * @param cmdline the command line's address
   * @param initrd the initrd's address (0 without one)
   * @param initrdSize its size in bytes (0 without one)
   */
  public static byte[] build(
      byte[] kernel,
      LinuxHeader header,
      List<E820Entry> map,
      long code32Start,
      long cmdline,
      long initrd,
      long initrdSize) {
    if (map.size() > E820_MAX) {
      throw new BootFormatException("the memory map has more than 128 ranges");
    }
    ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
    b.put(LinuxHeader.OFFSET, kernel, LinuxHeader.OFFSET, header.headerEnd() - LinuxHeader.OFFSET);

    long upperKib = MultibootInfo.upperMemory(map) / 1024;
    b.putShort(EXT_MEM_K, (short) Math.min(upperKib, 0xfc00)); // INT 15h AH=88h caps at 63 MiB
    b.putInt(ALT_MEM_K, (int) upperKib); // INT 15h AX=E801h: KiB above 1 MiB
    b.put(E820_ENTRIES, (byte) map.size());
    for (int i = 0; i < map.size(); i++) {
      E820Entry e = map.get(i);
      int o = E820_TABLE + 20 * i;
      b.putLong(o, e.base()).putLong(o + 8, e.length()).putInt(o + 16, e.type());
    }

    b.put(TYPE_OF_LOADER, (byte) LOADER_TYPE);
    b.put(LOADFLAGS, (byte) (header.loadflags() | LinuxHeader.CAN_USE_HEAP));
    b.putShort(HEAP_END_PTR, (short) HEAP_END);
    b.putInt(CODE32_START, (int) code32Start);
    b.putInt(CMD_LINE_PTR, (int) cmdline);
    b.putInt(EXT_CMD_LINE_PTR, (int) (cmdline >>> 32));
    b.putInt(RAMDISK_IMAGE, (int) initrd);
    b.putInt(EXT_RAMDISK_IMAGE, (int) (initrd >>> 32));
    b.putInt(RAMDISK_SIZE, (int) initrdSize);
    b.putInt(EXT_RAMDISK_SIZE, (int) (initrdSize >>> 32));
    return b.array();
  }
}
