package dev.toykvm.devices.pc;

import dev.toykvm.devices.GuestMemory;

/** Guest RAM of {@code size} bytes from address 0; anything else is not RAM. */
final class FakeGuestMemory implements GuestMemory {
  final byte[] ram;

  FakeGuestMemory(int size) {
    ram = new byte[size];
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

  void putBe32(int addr, int v) {
    for (int i = 0; i < 4; i++) {
      ram[addr + i] = (byte) (v >>> (24 - 8 * i));
    }
  }

  void putBe64(int addr, long v) {
    putBe32(addr, (int) (v >>> 32));
    putBe32(addr + 4, (int) v);
  }

  int be32(int addr) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
      v = (v << 8) | (ram[addr + i] & 0xff);
    }
    return v;
  }
}
