package dev.toykvm.kvm;

/** Elements of a string I/O data area: little-endian values of 1, 2 or 4 bytes. */
final class IoStringData {
  private IoStringData() {}

  static long get(byte[] data, int size, int i) {
    check(data, size, i);
    long v = 0;
    for (int b = size - 1; b >= 0; b--) {
      v = v << 8 | (data[i * size + b] & 0xff);
    }
    return v;
  }

  static void set(byte[] data, int size, int i, long value) {
    check(data, size, i);
    for (int b = 0; b < size; b++) {
      data[i * size + b] = (byte) (value >>> (8 * b));
    }
  }

  private static void check(byte[] data, int size, int i) {
    if (i < 0 || (long) (i + 1) * size > data.length) {
      throw new IndexOutOfBoundsException(
          "element " + i + " of " + size + " bytes is outside the " + data.length + "-byte data");
    }
  }
}
