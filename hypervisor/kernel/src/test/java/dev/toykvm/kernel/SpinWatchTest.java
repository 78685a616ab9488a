package dev.toykvm.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A guest's loops as its block starts show them, and the yields while it waits for a device. */
class SpinWatchTest {
  private int yields;
  private final SpinWatch spin = new SpinWatch(() -> yields++);

  @Test
  void aBlockStartedAgainSinceTheLastWriteIsALoop() {
    spin.writeAdded();
    assertFalse(spin.loopsBack(0x100));
    assertFalse(spin.loopsBack(0x120));
    assertFalse(spin.loopsBack(0x140));
    assertTrue(spin.loopsBack(0x120));
  }

  @Test
  void aWriteForgetsTheBlocksBeforeIt() {
    spin.writeAdded();
    assertFalse(spin.loopsBack(0x100));
    assertFalse(spin.loopsBack(0x120));
    spin.writeAdded(); // a burst: each turn of the loop writes
    assertFalse(spin.loopsBack(0x100));
    assertFalse(spin.loopsBack(0x120));
    spin.writeAdded();
    assertFalse(spin.loopsBack(0x100));
  }

  @Test
  void aLoopOfRingBlocksIsRecognisedAndALongerOneIsNot() {
    spin.writeAdded();
    for (int i = 0; i < SpinWatch.RING; i++) {
      assertFalse(spin.loopsBack(0x1000 + 0x10L * i));
    }
    assertTrue(spin.loopsBack(0x1000));

    spin.writeAdded();
    for (int i = 0; i <= SpinWatch.RING; i++) {
      assertFalse(spin.loopsBack(0x2000 + 0x10L * i));
    }
    // The first block was pushed out of the ring by the ninth: straight-line code looks the same.
    assertFalse(spin.loopsBack(0x2000));
  }

  @Test
  void waitingYieldsAtOnceThenAtTheAnchorEveryInterval() {
    long t = 1_000_000_000L;
    spin.waiting(t, 0x500);
    assertEquals(1, yields);
    assertTrue(spin.watching());
    assertTrue(spin.atBlock(t + SpinWatch.YIELD_EVERY_NANOS - 1, 0x500)); // too soon
    assertEquals(1, yields);
    assertTrue(spin.atBlock(t + SpinWatch.YIELD_EVERY_NANOS, 0x500));
    assertEquals(2, yields);
    assertTrue(spin.atBlock(t + 3 * SpinWatch.YIELD_EVERY_NANOS, 0x520)); // not the anchor
    assertEquals(2, yields);
    assertTrue(spin.atBlock(t + 3 * SpinWatch.YIELD_EVERY_NANOS + 1, 0x500));
    assertEquals(3, yields);
  }

  @Test
  void theWindowClosesAtItsEnd() {
    long t = 5_000_000_000L;
    spin.waiting(t, 0x500);
    assertTrue(spin.atBlock(t + SpinWatch.WINDOW_NANOS - 1, 0x520));
    assertFalse(spin.atBlock(t + SpinWatch.WINDOW_NANOS, 0x500));
    assertFalse(spin.watching());
    int before = yields;
    assertFalse(spin.atBlock(t + 2 * SpinWatch.WINDOW_NANOS, 0x500));
    assertEquals(before, yields);
  }

  @Test
  void theWindowClosesWhenTheGuestStaysAwayFromTheAnchor() {
    long t = 5_000_000_000L;
    spin.waiting(t, 0x500);
    for (int i = 0; i < SpinWatch.MAX_BLOCKS_AWAY; i++) {
      assertTrue(spin.atBlock(t + i, 0x600 + i));
    }
    assertTrue(spin.atBlock(t + 100, 0x500)); // back: the count starts again
    for (int i = 0; i < SpinWatch.MAX_BLOCKS_AWAY; i++) {
      assertTrue(spin.atBlock(t + 200 + i, 0x600 + i));
    }
    assertFalse(spin.atBlock(t + 300, 0x700));
    assertFalse(spin.watching());
  }

  @Test
  void aNewWriteClosesTheWindow() {
    spin.waiting(7_000_000_000L, 0x500);
    spin.writeAdded();
    assertFalse(spin.watching());
    assertFalse(spin.atBlock(7_000_000_001L, 0x500));
    assertEquals(1, yields);
  }

  @Test
  void noWindowNoYield() {
    assertFalse(spin.watching());
    assertFalse(spin.atBlock(1, 0x500));
    assertEquals(0, yields);
  }
}
