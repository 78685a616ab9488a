package dev.toykvm.vmm.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ConfigSpaceTest {
  @Test
  void onlyWritableBitsChangeAndWriteOneClearsClears() {
    ConfigSpace c = new ConfigSpace();
    c.set32(0x10, 0xaabb_ccdd);
    c.setWritable(0x10, 2, 0x0ff0);
    c.setClearOnOne(0x12, 1, 0x81);
    c.write(0x10, 4, 0x1234_5678);
    // 0x0ff0 of the low word takes 0x5678's bits; byte 0x12: 0x34 clears bits 0x81 & 0x34 = 0.
    assertEquals(0xaabb_c67d, c.get32(0x10));
    c.write(0x12, 1, 0x81);
    assertEquals(0x3a, c.get8(0x12), "0xbb with bits 0x81 cleared");
    assertEquals(0x3a, c.read(0x12, 1));
    assertEquals(0xc67d, c.read(0x10, 2));
  }

  @Test
  void aWholeRangeCanBeMadeWritable() {
    ConfigSpace c = new ConfigSpace();
    c.setWritableRange(0x40, 0xc0);
    c.write(0xfc, 4, 0xdead_beef);
    assertEquals(0xdead_beef, c.read(0xfc, 4));
    c.write(0x3c, 4, 0xffff_ffff);
    assertEquals(0, c.read(0x3c, 4));
  }
}
