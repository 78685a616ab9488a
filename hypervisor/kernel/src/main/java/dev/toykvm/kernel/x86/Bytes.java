package dev.toykvm.kernel.x86;

/** Little-endian helpers for guest memory. */
final class Bytes {
  private Bytes() {}

  static long le(byte[] b, int offset, int size) {
    long v = 0;
    for (int i = size - 1; i >= 0; i--) {
      v = (v << 8) | (b[offset + i] & 0xff);
    }
    return v;
  }

  static byte[] le(long value, int size) {
    byte[] b = new byte[size];
    for (int i = 0; i < size; i++) {
      b[i] = (byte) (value >>> (8 * i));
    }
    return b;
  }
}
