package dev.toykvm.devices;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Guest RAM for device tests: {@code size} bytes from address 0 in an array; anything else is not
 * RAM, as {@link GuestMemory} says (false, nothing moved).
 */
public final class ArrayGuestMemory implements GuestMemory {
  /** The bytes, for a test to look at or prepare directly. */
  public final byte[] ram;

  /** The same bytes, little-endian. */
  public final ByteBuffer le;

  public ArrayGuestMemory(int size) {
    ram = new byte[size];
    le = ByteBuffer.wrap(ram).order(ByteOrder.LITTLE_ENDIAN);
  }

  private boolean inside(long addr, int length) {
    return addr >= 0 && addr <= ram.length - (long) length;
  }

  @Override
  public boolean read(long addr, byte[] dst) {
    if (!inside(addr, dst.length)) {
      return false;
    }
    System.arraycopy(ram, (int) addr, dst, 0, dst.length);
    return true;
  }

  @Override
  public boolean write(long addr, byte[] src) {
    if (!inside(addr, src.length)) {
      return false;
    }
    System.arraycopy(src, 0, ram, (int) addr, src.length);
    return true;
  }

  /** Copies {@code src} to {@code addr} (which must be RAM). */
  public void put(long addr, byte[] src) {
    System.arraycopy(src, 0, ram, (int) addr, src.length);
  }

  /** A copy of {@code length} bytes at {@code addr}. */
  public byte[] get(long addr, int length) {
    byte[] b = new byte[length];
    System.arraycopy(ram, (int) addr, b, 0, length);
    return b;
  }

  /** Stores {@code v} big-endian at {@code addr} (fw_cfg's DMA structures are big-endian). */
  public void putBe32(int addr, int v) {
    ByteBuffer.wrap(ram).putInt(addr, v);
  }

  public void putBe64(int addr, long v) {
    ByteBuffer.wrap(ram).putLong(addr, v);
  }

  public int be32(int addr) {
    return ByteBuffer.wrap(ram).getInt(addr);
  }
}
