package dev.toykvm.devices.nvme;

import dev.toykvm.devices.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Guest RAM of {@code size} bytes from address 0; anything else is not RAM. */
final class FakeMemory implements GuestMemory {
  final byte[] ram;
  final ByteBuffer le;

  FakeMemory(int size) {
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

  void put(long addr, byte[] src) {
    System.arraycopy(src, 0, ram, (int) addr, src.length);
  }

  byte[] get(long addr, int length) {
    byte[] b = new byte[length];
    System.arraycopy(ram, (int) addr, b, 0, length);
    return b;
  }
}
