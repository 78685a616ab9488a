package dev.toykvm.vmm;

import dev.toykvm.devices.BusDevice;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the guest's writes to the firmware go: nowhere, as on a PC, where the BIOS ROM ignores
 * them. The ROM is a read-only memory slot, so a read never exits; a write is one {@code
 * KVM_EXIT_MMIO} (see {@code KVM_MEM_READONLY}), which this device on the MMIO bus drops, counts
 * and logs once (firmware probing whether it can write its shadow is normal, not an error). A read
 * that does reach it (none should) returns the ROM's bytes.
 */
final class RomWrites implements BusDevice {
  private static final Logger log = LoggerFactory.getLogger(RomWrites.class);

  private final byte[] rom;
  private final int offset;
  private final AtomicLong writes = new AtomicLong();

  /**
   * @param rom the firmware image
   * @param offset the image offset at which this window starts
   */
  RomWrites(byte[] rom, int offset) {
    this.rom = rom;
    this.offset = offset;
  }

  /** Writes dropped so far. */
  long writes() {
    return writes.get();
  }

  @Override
  public long read(long at, int size) {
    long v = 0;
    for (int i = size - 1; i >= 0; i--) {
      long p = offset + at + i;
      v = v << 8 | (p < rom.length ? rom[(int) p] & 0xff : 0xff);
    }
    return v;
  }

  @Override
  public void write(long at, int size, long value) {
    if (writes.getAndIncrement() == 0) {
      log.debug(
          "rom: the guest wrote 0x{} ({} bytes) to the firmware at offset 0x{}: ignored, as on a"
              + " PC (logged once)",
          Long.toHexString(value),
          size,
          Long.toHexString(offset + at));
    }
  }
}
