package dev.toykvm.kernel.irq;

import java.util.function.LongToIntFunction;

/**
 * Byte-wide I/O ports, as the 8259 and 8254 decode them: a wider access is split into accesses of
 * consecutive byte ports, low byte first, and counted as odd (a driver never makes one).
 */
final class BytePorts {
  private BytePorts() {}

  /** Writes one byte to one port. */
  interface ByteWriter {
    void write(long port, int value);
  }

  static long read(OddAccesses odd, long port, int size, LongToIntFunction readByte) {
    if (size != 1) {
      odd.record("a %d-byte read at port 0x%x", size, port);
    }
    long value = 0;
    for (int i = 0; i < size; i++) {
      value |= (long) readByte.applyAsInt(port + i) << (8 * i);
    }
    return value;
  }

  static void write(OddAccesses odd, long port, int size, long value, ByteWriter writeByte) {
    if (size != 1) {
      odd.record("a %d-byte write at port 0x%x", size, port);
    }
    for (int i = 0; i < size; i++) {
      writeByte.write(port + i, (int) (value >>> (8 * i)) & 0xff);
    }
  }
}
