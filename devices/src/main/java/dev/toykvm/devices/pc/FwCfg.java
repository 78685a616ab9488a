package dev.toykvm.devices.pc;

import dev.toykvm.devices.BusDevice;
import dev.toykvm.devices.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * QEMU's firmware configuration device ({@code fw_cfg}) on a PC's I/O ports, as QEMU's {@code
 * docs/specs/fw_cfg.rst} describes it: firmware and test kernels read named items (RAM size, CPU
 * count, files such as {@code etc/e820}) through it.
 *
 * <p>The device covers {@link #SIZE} ports from {@link #PIO_BASE} (offsets below are from there):
 *
 * <pre>
 * 0x0-0x1  selector (a 16-bit write at 0x510) and data (8-bit reads at 0x511). As on QEMU the two
 *          ports are one region: a 16-bit write at either selects an item and rewinds its offset
 *          to 0; an 8-bit read at either returns the next byte of the item and advances, 0 past
 *          its end or for an item that does not exist; 8-bit writes (the data writes QEMU dropped
 *          in v2.4) are ignored.
 * 0x4-0xb  the DMA address register (0x514), big-endian. Writing the high half (32 bits at 0x514)
 *          then the low half (32 bits at 0x518) starts an operation at that address, as does one
 *          64-bit write at 0x514. Reads return the bytes "QEMU CFG" (0x51454d5520434647 in
 *          big-endian), which says the DMA interface is there.
 * </pre>
 *
 * <p>Keys: bit 15 selects the architecture-specific items (none here: they read as zeros), bit 14
 * (QEMU's old write channel) is ignored, the other 14 bits are the item. An item that does not
 * exist reads as zeros, as on QEMU. Items:
 *
 * <pre>
 * 0x0000 signature  "QEMU"
 * 0x0001 ID         u32 LE: bit 0 traditional interface, bit 1 DMA interface
 * 0x0003 RAM size   u64 LE, bytes (QEMU's FW_CFG_RAM_SIZE: the machine's RAM size)
 * 0x0005 CPUs       u16 LE (FW_CFG_NB_CPUS)
 * 0x000f max CPUs   u16 LE (FW_CFG_MAX_CPUS; no CPU hotplug here, so the same number)
 * 0x0019 file directory: u32 BE count, then per file {u32 BE size, u16 BE key, u16 reserved,
 *        char name[56] NUL-padded}, in the order the files were added
 * 0x0020 and up     the files, in the order they were added ({@link #addFile})
 * </pre>
 *
 * <p>A DMA operation reads the {@code FWCfgDmaAccess} structure {u32 control, u32 length, u64
 * address} (big-endian) from guest memory; control bit 3 (select) selects the key in its upper 16
 * bits first; then bit 1 (read) copies {@code length} bytes of the item to {@code address} (zeros
 * past the item's end), else bit 4 (write) fails (every item here is read-only, as QEMU's
 * externally provided ones are), else bit 2 (skip) advances the offset (no further than the item's
 * end). The control field is then written back: 0 on success, bit 0 (error) if a write was asked or
 * guest memory could not be read or written. A DMA outside guest RAM is never an exception, only
 * the error bit.
 *
 * <p>Other accesses (wider data reads, 8-bit selector writes, DMA register accesses of other sizes
 * or offsets, the unused ports 0x512-0x513) are not valid on QEMU: they read all-ones, do nothing
 * and are counted ({@link #oddAccesses()}). Thread-safe.
 */
public final class FwCfg implements BusDevice {

  /** The selector port; the data port is the next one, the DMA address register at +4. */
  public static final int PIO_BASE = 0x510;

  /** Ports covered: 0x510-0x51b. */
  public static final int SIZE = 12;

  public static final int SELECTOR = 0x0;
  public static final int DATA = 0x1;
  public static final int DMA_ADDRESS = 0x4;

  public static final int KEY_SIGNATURE = 0x0000;
  public static final int KEY_ID = 0x0001;
  public static final int KEY_RAM_SIZE = 0x0003;
  public static final int KEY_NB_CPUS = 0x0005;

  /** FW_CFG_MAX_CPUS: the most CPUs the machine can have; here, the CPUs it has. */
  public static final int KEY_MAX_CPUS = 0x000f;

  public static final int KEY_FILE_DIR = 0x0019;
  public static final int KEY_FILE_FIRST = 0x0020;

  /** Bit 15 of a key: an architecture-specific item. */
  public static final int KEY_ARCH_LOCAL = 0x8000;

  private static final int KEY_ENTRY_MASK = 0x3fff;

  public static final int ID_TRADITIONAL = 1;
  public static final int ID_DMA = 2;

  public static final int DMA_CTL_ERROR = 0x01;
  public static final int DMA_CTL_READ = 0x02;
  public static final int DMA_CTL_SKIP = 0x04;
  public static final int DMA_CTL_SELECT = 0x08;
  public static final int DMA_CTL_WRITE = 0x10;

  /** Bytes of a file name in a directory entry, the terminating NUL included. */
  public static final int FILE_NAME_SIZE = 56;

  private static final int DIR_ENTRY_SIZE = 64;
  private static final byte[] DMA_SIGNATURE = "QEMU CFG".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] NO_ITEM = new byte[0];
  private static final int ZERO_CHUNK = 4096;

  private final GuestMemory memory;
  private final Map<Integer, byte[]> items = new HashMap<>();
  private final List<String> fileNames = new ArrayList<>();

  private byte[] current = NO_ITEM;
  private int offset;
  private long dmaHigh;
  private long oddAccesses;
  private long dmaErrors;

  /**
   * @param memory guest memory, for the DMA interface
   * @param ramSize the machine's RAM size in bytes (item 0x0003)
   * @param cpus the number of CPUs (item 0x0005), 1 to 0xffff
   */
  public FwCfg(GuestMemory memory, long ramSize, int cpus) {
    if (cpus < 1 || cpus > 0xffff) {
      throw new IllegalArgumentException(
          "cannot create fw_cfg: %d CPUs is not between 1 and 65535".formatted(cpus));
    }
    this.memory = memory;
    items.put(KEY_SIGNATURE, "QEMU".getBytes(StandardCharsets.US_ASCII));
    items.put(KEY_ID, le(ID_TRADITIONAL | ID_DMA, 4));
    items.put(KEY_RAM_SIZE, le(ramSize, 8));
    items.put(KEY_NB_CPUS, le(cpus, 2));
    items.put(KEY_MAX_CPUS, le(cpus, 2));
    items.put(KEY_FILE_DIR, directory());
  }

  /**
   * Adds a file item at the next free key from 0x0020 and lists it in the directory.
   *
   * @return its key
   * @throws IllegalArgumentException if the name is empty, longer than 55 bytes of ASCII, or
   *     already added, or the keys are used up
   */
  public synchronized int addFile(String name, byte[] data) {
    byte[] n = name.getBytes(StandardCharsets.US_ASCII);
    if (name.isEmpty()
        || n.length >= FILE_NAME_SIZE
        || !StandardCharsets.US_ASCII.newEncoder().canEncode(name)) {
      throw new IllegalArgumentException(
          "cannot add fw_cfg file \"%s\": a name is 1 to %d ASCII characters"
              .formatted(name, FILE_NAME_SIZE - 1));
    }
    if (fileNames.contains(name)) {
      throw new IllegalArgumentException(
          "cannot add fw_cfg file \"%s\": there is one of that name".formatted(name));
    }
    int key = KEY_FILE_FIRST + fileNames.size();
    if (key > KEY_ENTRY_MASK) {
      throw new IllegalArgumentException(
          "cannot add fw_cfg file \"%s\": all keys are used".formatted(name));
    }
    fileNames.add(name);
    items.put(key, data.clone());
    items.put(KEY_FILE_DIR, directory());
    return key;
  }

  /** Adds the file {@code etc/e820}: the memory map firmware reads (see {@link E820Entry}). */
  public int addE820(List<E820Entry> map) {
    return addFile("etc/e820", E820Entry.encode(map));
  }

  /** Accesses QEMU would not accept (see the class comment). */
  public synchronized long oddAccesses() {
    return oddAccesses;
  }

  /** DMA operations that ended with the error bit. */
  public synchronized long dmaErrors() {
    return dmaErrors;
  }

  @Override
  public synchronized long read(long off, int size) {
    if ((off == SELECTOR || off == DATA) && size == 1) {
      return offset < current.length ? current[offset++] & 0xff : 0;
    }
    if (off >= DMA_ADDRESS && off + size <= DMA_ADDRESS + 8 && (size == 4 || size == 8)) {
      long v = 0;
      for (int i = size - 1; i >= 0; i--) {
        v = (v << 8) | (DMA_SIGNATURE[(int) off - DMA_ADDRESS + i] & 0xff);
      }
      return v;
    }
    oddAccesses++;
    return BusDevice.allOnes(size);
  }

  @Override
  public synchronized void write(long off, int size, long value) {
    if ((off == SELECTOR || off == DATA) && size == 2) {
      select((int) (value & 0xffff));
    } else if ((off == SELECTOR || off == DATA) && size == 1) {
      // A data write: ignored since QEMU v2.4, and not odd.
    } else if (off == DMA_ADDRESS && size == 4) {
      dmaHigh = (Integer.reverseBytes((int) value) & 0xffff_ffffL) << 32;
    } else if (off == DMA_ADDRESS + 4 && size == 4) {
      long address = dmaHigh | (Integer.reverseBytes((int) value) & 0xffff_ffffL);
      dmaHigh = 0;
      dma(address);
    } else if (off == DMA_ADDRESS && size == 8) {
      dmaHigh = 0;
      dma(Long.reverseBytes(value));
    } else {
      oddAccesses++;
    }
  }

  private void select(int key) {
    current =
        (key & KEY_ARCH_LOCAL) != 0 ? NO_ITEM : items.getOrDefault(key & KEY_ENTRY_MASK, NO_ITEM);
    offset = 0;
  }

  private void dma(long access) {
    byte[] header = new byte[16];
    if (!memory.read(access, header)) {
      finish(access, DMA_CTL_ERROR);
      return;
    }
    ByteBuffer h = ByteBuffer.wrap(header); // big-endian
    int control = h.getInt(0);
    long length = h.getInt(4) & 0xffff_ffffL;
    long address = h.getLong(8);
    if ((control & DMA_CTL_SELECT) != 0) {
      select(control >>> 16);
    }
    int result = 0;
    if ((control & DMA_CTL_READ) != 0) {
      result = dmaRead(address, length);
    } else if ((control & DMA_CTL_WRITE) != 0) {
      result = length == 0 ? 0 : DMA_CTL_ERROR;
    } else if ((control & DMA_CTL_SKIP) != 0) {
      offset = (int) Math.min(offset + length, current.length);
    }
    finish(access, result);
  }

  private int dmaRead(long address, long length) {
    int fromItem = (int) Math.min(length, Math.max(0, current.length - offset));
    if (fromItem > 0) {
      byte[] chunk = new byte[fromItem];
      System.arraycopy(current, offset, chunk, 0, fromItem);
      if (!memory.write(address, chunk)) {
        return DMA_CTL_ERROR;
      }
      offset += fromItem;
    }
    // Past the item's end a read gives zeros, as QEMU's dma_memory_set does.
    long zeros = length - fromItem;
    long at = address + fromItem;
    byte[] zero = new byte[(int) Math.min(zeros, ZERO_CHUNK)];
    while (zeros > 0) {
      byte[] piece = zeros >= zero.length ? zero : new byte[(int) zeros];
      if (!memory.write(at, piece)) {
        return DMA_CTL_ERROR;
      }
      at += piece.length;
      zeros -= piece.length;
    }
    return 0;
  }

  private void finish(long access, int control) {
    if (control != 0) {
      dmaErrors++;
    }
    // Where the control field cannot be written back, the guest learns nothing: as on QEMU.
    memory.write(access, ByteBuffer.allocate(4).putInt(control).array());
  }

  private byte[] directory() {
    ByteBuffer d = ByteBuffer.allocate(4 + fileNames.size() * DIR_ENTRY_SIZE); // big-endian
    d.putInt(fileNames.size());
    for (int i = 0; i < fileNames.size(); i++) {
      int key = KEY_FILE_FIRST + i;
      d.putInt(items.get(key).length).putShort((short) key).putShort((short) 0);
      byte[] name = new byte[FILE_NAME_SIZE];
      byte[] n = fileNames.get(i).getBytes(StandardCharsets.US_ASCII);
      System.arraycopy(n, 0, name, 0, n.length);
      d.put(name);
    }
    return d.array();
  }

  private static byte[] le(long value, int size) {
    ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value);
    byte[] out = new byte[size];
    System.arraycopy(b.array(), 0, out, 0, size);
    return out;
  }
}
