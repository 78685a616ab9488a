package dev.toykvm.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A guest's loops as its block starts show them, and the yields while it waits for a device. */
class SpinWatchTest {
  private int yields;
  private final java.util.Set<Long> pauseBlocks = new java.util.HashSet<>();
  private int probes;
  private final SpinWatch spin =
      new SpinWatch(
          () -> yields++,
          (linear, size) -> {
            probes++;
            return pauseBlocks.contains(linear);
          });

  @Test
  void aBlockStartedAgainSinceTheLastWriteIsALoop() {
    spin.writeAdded();
    assertFalse(spin.loopsBack(0x100, 16));
    assertFalse(spin.loopsBack(0x120, 16));
    assertFalse(spin.loopsBack(0x140, 16));
    assertTrue(spin.loopsBack(0x120, 16));
  }

  @Test
  void aWriteForgetsTheBlocksBeforeIt() {
    spin.writeAdded();
    assertFalse(spin.loopsBack(0x100, 16));
    assertFalse(spin.loopsBack(0x120, 16));
    spin.writeAdded(); // a burst: each turn of the loop writes
    assertFalse(spin.loopsBack(0x100, 16));
    assertFalse(spin.loopsBack(0x120, 16));
    spin.writeAdded();
    assertFalse(spin.loopsBack(0x100, 16));
  }

  @Test
  void aLoopOfRingBlocksIsRecognisedAndALongerOneIsNot() {
    spin.writeAdded();
    for (int i = 0; i < SpinWatch.RING; i++) {
      assertFalse(spin.loopsBack(0x1000 + 0x10L * i, 16));
    }
    assertTrue(spin.loopsBack(0x1000, 16));

    spin.writeAdded();
    for (int i = 0; i <= SpinWatch.RING; i++) {
      assertFalse(spin.loopsBack(0x2000 + 0x10L * i, 16));
    }
    // The first block was pushed out of the ring by the ninth: straight-line code looks the same.
    assertFalse(spin.loopsBack(0x2000, 16));
  }

  @Test
  void aLoopWithAPauseIsASpinWaitAndOneWithoutIsNot() {
    spin.writeAdded();
    spin.loopsBack(0x100, 16);
    spin.loopsBack(0x120, 16);
    assertTrue(spin.loopsBack(0x100, 16));
    assertFalse(spin.loopPauses()); // a memset between two doorbells
    pauseBlocks.add(0x120L);
    spin.writeAdded();
    spin.loopsBack(0x100, 16);
    spin.loopsBack(0x120, 16);
    assertTrue(spin.loopsBack(0x100, 16));
    assertFalse(spin.loopPauses()); // remembered: a block is read once
    spin.writeAdded();
    spin.loopsBack(0x200, 16);
    spin.loopsBack(0x120, 8); // the same start, another size: another block
    assertTrue(spin.loopsBack(0x200, 16));
    assertTrue(spin.loopPauses());
    assertEquals(4, probes);
  }

  /** The guest wrote, then looped over 0x500 (ending in pause) and 0x520: the batch went. */
  private void spinAt(long t) {
    pauseBlocks.add(0x500L);
    spin.writeAdded();
    spin.loopsBack(0x500, 16);
    spin.loopsBack(0x520, 16);
    assertTrue(spin.loopsBack(0x500, 16));
    spin.stopped(t, true, 0x500);
  }

  @Test
  void aSpinYieldsAtOnceThenAtTheAnchorEveryInterval() {
    long t = 1_000_000_000L;
    spinAt(t);
    assertEquals(1, yields);
    assertTrue(spin.watching());
    assertTrue(spin.atBlock(t + SpinWatch.YIELD_EVERY_NANOS - 1, 0x500, 16)); // too soon
    assertEquals(1, yields);
    assertTrue(spin.atBlock(t + SpinWatch.YIELD_EVERY_NANOS, 0x500, 16));
    assertEquals(2, yields);
    assertTrue(spin.atBlock(t + 3 * SpinWatch.YIELD_EVERY_NANOS, 0x520, 16)); // not the anchor
    assertEquals(2, yields);
    assertTrue(spin.atBlock(t + 3 * SpinWatch.YIELD_EVERY_NANOS + 1, 0x500, 16));
    assertEquals(3, yields);
  }

  @Test
  void aLoopWithoutPauseIsWorkAndEndsTheWatch() {
    spin.writeAdded();
    spin.loopsBack(0x500, 16);
    spin.loopsBack(0x520, 16);
    assertTrue(spin.loopsBack(0x500, 16));
    spin.stopped(10, true, 0x500);
    assertFalse(spin.watching());
    assertEquals(0, yields);
  }

  @Test
  void afterAnIdleFlushASpinFoundLaterYields() {
    pauseBlocks.add(0x500L);
    spin.writeAdded();
    spin.loopsBack(0x400, 16); // straight-line code, then the batch is due by time
    spin.stopped(10, false, 0x410);
    assertTrue(spin.watching());
    assertEquals(0, yields);
    assertTrue(spin.atBlock(20, 0x500, 16));
    assertTrue(spin.atBlock(30, 0x520, 16));
    assertEquals(0, yields);
    assertTrue(spin.atBlock(40, 0x500, 16)); // the loop: with pause, a spin
    assertEquals(1, yields);
    assertTrue(spin.atBlock(40 + SpinWatch.YIELD_EVERY_NANOS, 0x500, 16));
    assertEquals(2, yields);
  }

  @Test
  void afterAnIdleFlushALoopWithoutPauseOrNoLoopEndsTheWatch() {
    spin.writeAdded();
    spin.stopped(10, false, 0x410);
    assertTrue(spin.atBlock(20, 0x600, 16));
    assertFalse(spin.atBlock(30, 0x600, 16)); // a loop, no pause
    assertEquals(0, yields);

    spin.writeAdded();
    spin.stopped(10, false, 0x410);
    for (int i = 0; i < SpinWatch.MAX_BLOCKS_AWAY; i++) {
      assertTrue(spin.atBlock(20 + i, 0x1000 + 0x100L * i, 16));
    }
    assertFalse(spin.atBlock(100, 0x9000, 16)); // straight on: the guest is working
    assertEquals(0, yields);
  }

  @Test
  void theWindowClosesAtItsEnd() {
    long t = 5_000_000_000L;
    spinAt(t);
    assertTrue(spin.atBlock(t + SpinWatch.WINDOW_NANOS - 1, 0x520, 16));
    assertFalse(spin.atBlock(t + SpinWatch.WINDOW_NANOS, 0x500, 16));
    assertFalse(spin.watching());
    int before = yields;
    assertFalse(spin.atBlock(t + 2 * SpinWatch.WINDOW_NANOS, 0x500, 16));
    assertEquals(before, yields);
  }

  @Test
  void theWindowClosesWhenTheGuestStaysAwayFromTheAnchor() {
    long t = 5_000_000_000L;
    spinAt(t);
    for (int i = 0; i < SpinWatch.MAX_BLOCKS_AWAY; i++) {
      assertTrue(spin.atBlock(t + i, 0x600 + i, 16));
    }
    assertTrue(spin.atBlock(t + 100, 0x500, 16)); // back: the count starts again
    for (int i = 0; i < SpinWatch.MAX_BLOCKS_AWAY; i++) {
      assertTrue(spin.atBlock(t + 200 + i, 0x600 + i, 16));
    }
    assertFalse(spin.atBlock(t + 300, 0x700, 16));
    assertFalse(spin.watching());
  }

  @Test
  void aNewWriteClosesTheWindow() {
    spinAt(7_000_000_000L);
    spin.writeAdded();
    assertFalse(spin.watching());
    assertFalse(spin.atBlock(7_000_000_001L, 0x500, 16));
    assertEquals(1, yields);
  }

  @Test
  void noWindowNoYield() {
    assertFalse(spin.watching());
    assertFalse(spin.atBlock(1, 0x500, 16));
    assertEquals(0, yields);
  }
}
