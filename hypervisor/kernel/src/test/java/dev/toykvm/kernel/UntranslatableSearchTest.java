package dev.toykvm.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class UntranslatableSearchTest {
  private final List<long[]> dropped = new ArrayList<>();
  private final UntranslatableSearch search =
      new UntranslatableSearch((begin, end) -> dropped.add(new long[] {begin, end}));

  // At 0x1000: mov eax, 0xd8ff (b8 ff d8 00 00); inc al (fe c0); call far eax (ff d8)
  private static final byte[] BLOCK = {
    (byte) 0xb8, (byte) 0xff, (byte) 0xd8, 0, 0, (byte) 0xfe, (byte) 0xc0, (byte) 0xff, (byte) 0xd8
  };

  private static byte[] from(int offset) {
    return java.util.Arrays.copyOfRange(BLOCK, offset, BLOCK.length);
  }

  @Test
  void triesEachPossibleStartInTurnAndFindsTheInstruction() {
    assertEquals(UntranslatableSearch.NO_STOP, search.stopAt());
    assertTrue(search.afterAbort(0x1000, BLOCK, false));
    assertEquals(0x1001, search.stopAt(), "inside the mov: never reached, so it aborts again");
    assertTrue(search.afterAbort(0x1000, BLOCK, false));
    assertEquals(0x1007, search.stopAt());
    assertEquals(1, dropped.size(), "the translations made with the first stop are dropped");
    assertNull(search.atStop(0x1003, from(3), false), "not the stop: a real hlt");
    assertEquals(UntranslatableSearch.AtStop.UNTRANSLATABLE, search.atStop(0x1007, from(7), false));
    assertEquals(UntranslatableSearch.NO_STOP, search.stopAt());
  }

  @Test
  void anOrdinaryInstructionAtTheStopMovesTheSearchOn() {
    // Defensive: a stop reached on bytes that are not the instruction (they changed meanwhile).
    assertTrue(search.afterAbort(0x1000, BLOCK, false));
    assertEquals(0x1001, search.stopAt());
    byte[] nop = {(byte) 0x90, (byte) 0x90};
    assertEquals(UntranslatableSearch.AtStop.PASSED, search.atStop(0x1001, nop, false));
    assertEquals(0x1007, search.stopAt());
    assertEquals(UntranslatableSearch.AtStop.PASSED, search.atStop(0x1007, nop, false));
    assertEquals(UntranslatableSearch.NO_STOP, search.stopAt(), "nothing left to try");
  }

  @Test
  void noCandidateLeftIsSaid() {
    assertFalse(search.afterAbort(0x3000, new byte[] {(byte) 0x90, (byte) 0xf4}, false));
    assertEquals(UntranslatableSearch.NO_STOP, search.stopAt());
  }
}
