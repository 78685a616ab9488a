package dev.toykvm.devices.pc;

import static dev.toykvm.devices.pc.SystemControlPort.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SystemControlPortTest {
  private int resets;
  private final SystemControlPort port = new SystemControlPort(() -> resets++);

  @Test
  void a20IsBit1AndReadsBack() {
    assertFalse(port.a20());
    port.write(0, 1, A20);
    assertTrue(port.a20());
    assertEquals(A20, port.read(0, 1));
    port.write(0, 1, 0);
    assertFalse(port.a20());
    assertEquals(0, resets);
  }

  @Test
  void bit0RisingResetsAndThenReadsZero() {
    port.write(0, 1, A20 | FAST_RESET);
    assertEquals(1, resets);
    assertEquals(A20, port.read(0, 1), "the reset cleared bit 0");
    port.write(0, 1, A20 | FAST_RESET);
    assertEquals(2, resets, "a second reset works too");
  }

  @Test
  void keptBitsReadBackAndWideAccessesUseTheLowByte() {
    port.write(0, 2, 0x1240);
    assertEquals(0x40, port.read(0, 1));
    assertEquals(0xff40, port.read(0, 2));
    assertEquals(0, resets);
  }
}
