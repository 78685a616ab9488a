package dev.toykvm.devices.nvme;

import dev.toykvm.devices.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The controller's DMA: guest RAM through {@link GuestMemory}, gated by the PCI command register's
 * bus master bit. With bus mastering off nothing moves (every access fails), as a PCI function that
 * may not start a transaction.
 */
final class Dma {
  private final GuestMemory memory;
  private boolean busMaster;

  Dma(GuestMemory memory) {
    this.memory = memory;
  }

  void busMaster(boolean on) {
    busMaster = on;
  }

  boolean busMaster() {
    return busMaster;
  }

  /** Reads guest memory; {@code false} if bus mastering is off or a byte is not guest RAM. */
  boolean read(long addr, byte[] dst) {
    return busMaster && memory.read(addr, dst);
  }

  /** Writes guest memory; {@code false}, nothing written, as {@link #read}. */
  boolean write(long addr, byte[] src) {
    return busMaster && memory.write(addr, src);
  }

  /** Reads {@code count} little-endian quadwords, or {@code null} as {@link #read} fails. */
  long[] readLongs(long addr, int count) {
    byte[] b = new byte[count * 8];
    if (!read(addr, b)) {
      return null;
    }
    long[] out = new long[count];
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
    return out;
  }
}
