package dev.toykvm.devices.pci;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class PciStateTest {

  @Property
  void everyStateSurvivesItsMessage(
      @ForAll boolean busMaster,
      @ForAll boolean intxDisabled,
      @ForAll boolean msix,
      @ForAll boolean mask) {
    PciState s = new PciState(busMaster, intxDisabled, msix, mask);
    assertEquals(s, PciState.decode(s.encode()));
  }

  @Test
  void theMessageIsByteExact() {
    assertArrayEquals(
        new byte[] {'P', 'C', 'I', 'S', 0x5, 0, 0, 0},
        new PciState(true, false, true, false).encode());
  }

  @Test
  void garbageIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> PciState.decode(new byte[7]));
    assertThrows(IllegalArgumentException.class, () -> PciState.decode(new byte[8]));
    byte[] m = PciState.RESET.encode();
    m[4] = 0x10;
    assertThrows(IllegalArgumentException.class, () -> PciState.decode(m));
  }
}
