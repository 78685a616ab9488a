package dev.toykvm.vmm.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Builds the Multiboot information structure a kernel finds at EBX (specification 0.6.96, section
 * 3.3): memory bounds, the memory map, the command line, the modules and the boot loader's name, as
 * one block of bytes meant for guest-physical {@code base}, every pointer in it absolute.
 *
 * <p>Layout of the block: the 120-byte structure, then the memory map, the module list and the
 * strings, each 8-byte aligned.
 */
public final class MultibootInfo {
  private MultibootInfo() {}

  /** EAX at the kernel's entry: a multiboot loader booted it. */
  public static final int BOOTLOADER_MAGIC = 0x2BADB002;

  static final int FLAG_MEMORY = 1;
  static final int FLAG_CMDLINE = 1 << 2;
  static final int FLAG_MODULES = 1 << 3;
  static final int FLAG_MMAP = 1 << 6;
  static final int FLAG_LOADER_NAME = 1 << 9;

  static final int STRUCT_BYTES = 120;
  static final int MMAP_ENTRY_BYTES = 24;
  static final int MODULE_BYTES = 16;

  /**
   * A module the kernel finds in its module list.
   *
   * @param start guest-physical address of its first byte
   * @param end the address after its last byte
   * @param string its command line (QEMU: the file name and its arguments)
   */
  public record Module(long start, long end, String string) {}

  /**
   * The information block for a kernel.
   *
   * @param base guest-physical address the block is written to (below 4 GiB)
   * @param memoryMap the machine's memory map, sorted
   * @param cmdline the kernel's command line
   * @param modules its modules, already placed in guest memory
   * @param loaderName the boot loader's name
   */
  public static byte[] build(
      long base,
      List<E820Entry> memoryMap,
      String cmdline,
      List<Module> modules,
      String loaderName) {
    byte[] cmd = cString(cmdline);
    byte[] name = cString(loaderName);
    byte[][] moduleStrings = new byte[modules.size()][];
    int stringBytes = align8(cmd.length) + align8(name.length);
    for (int i = 0; i < modules.size(); i++) {
      moduleStrings[i] = cString(modules.get(i).string());
      stringBytes += align8(moduleStrings[i].length);
    }
    int mmapOffset = STRUCT_BYTES;
    int mmapBytes = memoryMap.size() * MMAP_ENTRY_BYTES;
    int modsOffset = align8(mmapOffset + mmapBytes);
    int stringsOffset = align8(modsOffset + modules.size() * MODULE_BYTES);
    int total = stringsOffset + stringBytes;
    ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);

    int at = stringsOffset;
    int cmdAt = at;
    b.put(at, cmd);
    at += align8(cmd.length);
    int nameAt = at;
    b.put(at, name);
    at += align8(name.length);

    b.putInt(0, FLAG_MEMORY | FLAG_CMDLINE | FLAG_MODULES | FLAG_MMAP | FLAG_LOADER_NAME);
    b.putInt(4, (int) (lowerMemory(memoryMap) / 1024));
    b.putInt(8, (int) (upperMemory(memoryMap) / 1024));
    b.putInt(16, (int) (base + cmdAt));
    b.putInt(20, modules.size());
    b.putInt(24, (int) (base + modsOffset));
    b.putInt(44, mmapBytes);
    b.putInt(48, (int) (base + mmapOffset));
    b.putInt(64, (int) (base + nameAt));

    for (int i = 0; i < memoryMap.size(); i++) {
      E820Entry e = memoryMap.get(i);
      int o = mmapOffset + i * MMAP_ENTRY_BYTES;
      b.putInt(o, MMAP_ENTRY_BYTES - 4); // size of the entry, not counting this field
      b.putLong(o + 4, e.base());
      b.putLong(o + 12, e.length());
      b.putInt(o + 20, e.type());
    }
    for (int i = 0; i < modules.size(); i++) {
      Module m = modules.get(i);
      int o = modsOffset + i * MODULE_BYTES;
      b.putInt(o, (int) m.start());
      b.putInt(o + 4, (int) m.end());
      b.putInt(o + 8, (int) (base + at));
      b.put(at, moduleStrings[i]);
      at += align8(moduleStrings[i].length);
    }
    return b.array();
  }

  /** Bytes of RAM from address 0 up, at most 640 KiB (the specification's mem_lower). */
  static long lowerMemory(List<E820Entry> map) {
    for (E820Entry e : map) {
      if (e.type() == E820Entry.RAM && e.base() == 0) {
        return Math.min(e.length(), 640 * 1024);
      }
    }
    return 0;
  }

  /** Bytes of RAM from 1 MiB up to the first hole (the specification's mem_upper). */
  static long upperMemory(List<E820Entry> map) {
    long end = 0x100000;
    boolean grew = true;
    while (grew) {
      grew = false;
      for (E820Entry e : map) {
        if (e.type() == E820Entry.RAM && e.base() <= end && e.end() > end) {
          end = e.end();
          grew = true;
        }
      }
    }
    return Math.min(end - 0x100000, 0xffff_ffffL * 1024);
  }

  private static byte[] cString(String s) {
    byte[] text = s.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[text.length + 1];
    System.arraycopy(text, 0, out, 0, text.length);
    return out;
  }

  private static int align8(int n) {
    return (n + 7) & ~7;
  }
}
