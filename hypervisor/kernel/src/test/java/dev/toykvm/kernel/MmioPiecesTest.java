package dev.toykvm.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The call sequences Unicorn 2.0.1 makes for one access (measured), served as one access. */
class MmioPiecesTest {

  @Test
  void anAlignedEightByteReadIsServedToItsTwoHalves() {
    MmioPieces p = new MmioPieces();
    assertFalse(p.isPieceOrBegin(0x1000, 8)); // hook: the whole access
    p.setValue(0x1122_3344_5566_7788L);
    assertTrue(p.covers(0x1000, 4));
    assertEquals(0x5566_7788L, p.pieceValue(0x1000, 4));
    assertTrue(p.covers(0x1004, 4));
    assertEquals(0x1122_3344L, p.pieceValue(0x1004, 4));
    assertFalse(p.covers(0x1008, 4));
  }

  @Test
  void anUnalignedReadIsOneAccessAndItsAlignedPiecesAreIgnored() {
    MmioPieces p = new MmioPieces();
    // mov ecx, [0x1000e]: hook (0x1000e, 4), hook (0x1000c, 4), callback, hook (0x10010, 4),
    // callback
    assertFalse(p.isPieceOrBegin(0x1000e, 4));
    p.setValue(0xaabb_ccddL);
    assertTrue(p.isPieceOrBegin(0x1000c, 4));
    assertEquals(0xccdd_0000L, p.pieceValue(0x1000c, 4));
    assertTrue(p.isPieceOrBegin(0x10010, 4));
    assertEquals(0x0000_aabbL, p.pieceValue(0x10010, 4));
    // the next access is new again
    assertFalse(p.isPieceOrBegin(0x1000c, 4));
  }

  @Test
  void resetForgetsTheLastAccess() {
    MmioPieces p = new MmioPieces();
    p.isPieceOrBegin(0x2000, 8);
    p.reset();
    assertFalse(p.covers(0x2000, 4));
  }
}
