package dev.toykvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class LinuxHeaderTest {
  /**
   * A bzImage: {@code setupSects} setup sectors (0: four) after the boot sector, then {@code pm}
   * bytes of protected-mode part starting with {@code hlt}; protocol 2.15, LOADED_HIGH, loaded at 1
   * MiB, {@code init_size} as given, XLF_KERNEL_64.
   */
  static ByteBuffer bzImage(int setupSects, int pm, long initSize) {
    int setup = ((setupSects == 0 ? 4 : setupSects) + 1) * 512;
    ByteBuffer b = ByteBuffer.allocate(setup + pm).order(ByteOrder.LITTLE_ENDIAN);
    b.put(0x1f1, (byte) setupSects);
    b.putInt(0x1f4, (pm + 15) / 16);
    b.putShort(0x1fa, (short) 0xffff);
    b.putShort(0x1fe, (short) 0xaa55);
    b.put(0x200, (byte) 0xeb).put(0x201, (byte) 0x6a); // header up to 0x26c
    b.putInt(0x202, LinuxHeader.MAGIC);
    b.putShort(0x206, (short) 0x020f);
    b.put(0x211, (byte) LinuxHeader.LOADED_HIGH);
    b.putInt(0x214, 0x100000);
    b.putInt(0x22c, 0x7fffffff);
    b.putShort(0x236, (short) LinuxHeader.XLF_KERNEL_64);
    b.putInt(0x238, 2047);
    b.putInt(0x260, (int) initSize);
    b.put(setup, (byte) 0xf4);
    return b;
  }

  static byte[] bzImage() {
    return bzImage(1, 0x1000, 0x4000).array();
  }

  @Test
  void readsTheHeader() {
    LinuxHeader h = LinuxHeader.parse(bzImage());
    assertEquals(
        new LinuxHeader(1, 0x020f, 0x01, 0x100000, 0x7fffffff, 2047, 1, 0x4000, 0, 0x26c), h);
    assertEquals(0x100000, h.runAddress(0x100000));
    assertEquals(1024, h.setupBytes());
    assertTrue(h.has64BitEntry());
  }

  @Test
  void recognisesABzImageByBootFlagAndHdrS() {
    assertTrue(LinuxHeader.isLinux(bzImage()));
    byte[] noFlag = bzImage();
    noFlag[0x1fe] = 0;
    assertFalse(LinuxHeader.isLinux(noFlag));
    byte[] noMagic = bzImage();
    noMagic[0x202] = 'X';
    assertFalse(LinuxHeader.isLinux(noMagic));
    assertFalse(LinuxHeader.isLinux(new byte[0x100]));
  }

  @Test
  void zeroSetupSectorsMeansFour() {
    LinuxHeader h = LinuxHeader.parse(bzImage(0, 0x100, 0).array());
    assertEquals(4, h.setupSects());
    assertEquals(5 * 512, h.setupBytes());
    assertEquals(0x100, h.initSize(), "at least the protected-mode part");
  }

  @Test
  void aKernelLoadedBelowPrefAddressRunsThere() {
    ByteBuffer b = bzImage(1, 0x1000, 0x4000);
    b.putLong(0x258, 0x1000000);
    LinuxHeader h = LinuxHeader.parse(b.array());
    assertEquals(0x1000000, h.runAddress(0x100000));
    assertEquals(0x2000000, h.runAddress(0x2000000));
  }

  @Test
  void olderProtocolsUseTheirDefaults() {
    ByteBuffer b = bzImage(1, 0x1000, 0x4000);
    b.putShort(0x206, (short) 0x0202);
    b.putShort(0x1f6, (short) 0); // syssize was 16 bits before 2.04
    LinuxHeader h = LinuxHeader.parse(b.array());
    assertEquals(0x37ffffff, h.initrdAddrMax(), "before 2.03");
    assertEquals(255, h.cmdlineSize(), "before 2.06");
    assertEquals(0, h.xloadflags(), "before 2.12");
    assertEquals(0x1000, h.initSize(), "before 2.10: the protected-mode part");
    assertEquals(0, h.prefAddress(), "before 2.10");
  }

  private static String error(byte[] file) {
    return assertThrows(BootFormatException.class, () -> LinuxHeader.parse(file)).getMessage();
  }

  @Test
  void aProtocolOlderThan202IsRefused() {
    ByteBuffer b = bzImage(1, 0x1000, 0x4000);
    b.putShort(0x206, (short) 0x0201);
    assertEquals(
        "Linux boot protocol 2.01 is too old: toykvm needs 2.02 or later (cmd_line_ptr)",
        error(b.array()));
  }

  @Test
  void aZImageIsRefused() {
    ByteBuffer b = bzImage(1, 0x1000, 0x4000);
    b.put(0x211, (byte) 0);
    assertEquals(
        "not a bzImage (LOADED_HIGH clear): a zImage needs the real-mode loader at 0x10000",
        error(b.array()));
  }

  @Test
  void setupSectorsBeyondTheFileAreRefused() {
    ByteBuffer b = bzImage(1, 0x100, 0);
    b.put(0x1f1, (byte) 9);
    assertEquals(
        "9 setup sectors (5120 bytes) leave nothing of the 1280-byte file for the kernel",
        error(b.array()));
  }

  @Test
  void aTruncatedProtectedModePartIsRefused() {
    ByteBuffer b = bzImage(1, 0x100, 0);
    b.putInt(0x1f4, 0x100);
    assertEquals(
        "the protected-mode part is cut short: syssize says 4096 bytes, the file holds 256",
        error(b.array()));
  }

  @Test
  void aTruncatedHeaderIsRefused() {
    byte[] file = new byte[0x210];
    System.arraycopy(bzImage(), 0, file, 0, file.length);
    assertEquals("the setup header is cut short by the end of the 528-byte file", error(file));
  }
}
