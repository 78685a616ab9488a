package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SizeParserTest {
  @Test
  void suffixesAreBinary() {
    assertEquals(4096, SizeParser.parse("4096"));
    assertEquals(512L << 10, SizeParser.parse("512k"));
    assertEquals(16L << 20, SizeParser.parse("16M"));
    assertEquals(64L << 20, SizeParser.parse("64MiB"));
    assertEquals(64L << 20, SizeParser.parse("64mb"));
    assertEquals(1L << 30, SizeParser.parse("1G"));
  }

  @Test
  void garbageIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> SizeParser.parse("lots"));
    assertThrows(IllegalArgumentException.class, () -> SizeParser.parse("-1M"));
    assertThrows(IllegalArgumentException.class, () -> SizeParser.parse("16T"));
    assertThrows(IllegalArgumentException.class, () -> SizeParser.parse("99999999999G"));
  }
}
