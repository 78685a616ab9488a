package dev.toykvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link IrqfdLines} on real eventfds, the test playing the kernel side: it reads the irqfd (an
 * injection) and writes the resamplefd (the guest's EOI deasserted the GSI).
 */
class IrqfdLinesTest {
  private final int irqfd = Eventfd.create();
  private final int resamplefd = Eventfd.create();
  private final int edgefd = Eventfd.create();
  private final IrqfdLines lines =
      new IrqfdLines(
          List.of(
              new IrqfdLines.Irqfd(4, irqfd, resamplefd), new IrqfdLines.Irqfd(24, edgefd, -1)));

  @AfterEach
  void close() {
    Fds.close(irqfd);
    Fds.close(resamplefd);
    Fds.close(edgefd);
  }

  /** The kernel side's EOI: the GSI is deasserted and the resamplefd signalled. */
  private void eoi() {
    Eventfd.signal(resamplefd);
    lines.resampled(resamplefd);
  }

  @Test
  void aRisingLevelLineWritesTheIrqfdOnce() {
    lines.setIrq(4, true);
    lines.setIrq(4, true);
    assertEquals(1, Eventfd.drain(irqfd));
    assertTrue(lines.high(4));
  }

  @Test
  void aFallingLineWritesNothingTheKernelDeassertsAtEoi() {
    lines.setIrq(4, true);
    lines.setIrq(4, false);
    assertEquals(1, Eventfd.drain(irqfd));
    eoi();
    assertEquals(0, Eventfd.drain(irqfd), "low at the resample: not asserted again");
    assertEquals(1, lines.resamples());
  }

  @Test
  void aLineStillHighAtTheResampleIsAssertedAgain() {
    lines.setIrq(4, true);
    assertEquals(1, Eventfd.drain(irqfd));
    eoi();
    assertEquals(1, Eventfd.drain(irqfd), "still high after the EOI: asserted again");
    eoi();
    assertEquals(1, Eventfd.drain(irqfd));
  }

  @Test
  void aLineThatFallsAndRisesBeforeTheEoiIsNotWrittenTwice() {
    lines.setIrq(4, true);
    lines.setIrq(4, false);
    lines.setIrq(4, true); // still asserted in the kernel: nothing to write
    assertEquals(1, Eventfd.drain(irqfd));
    eoi();
    assertEquals(1, Eventfd.drain(irqfd));
  }

  @Test
  void aRiseAfterTheEoiWritesAgain() {
    lines.setIrq(4, true);
    lines.setIrq(4, false);
    eoi();
    lines.setIrq(4, true);
    assertEquals(2, Eventfd.drain(irqfd));
    assertEquals(2, lines.signals());
  }

  @Test
  void aSpuriousWakeUpOfTheResamplefdChangesNothing() {
    lines.setIrq(4, true);
    Eventfd.drain(irqfd);
    lines.resampled(resamplefd); // nothing was written to it
    assertEquals(0, Eventfd.drain(irqfd));
    assertEquals(0, lines.resamples());
  }

  @Test
  void anEdgeLineWritesAtEachPulseAndEachRise() {
    lines.pulse(24);
    lines.pulse(24);
    lines.setIrq(24, true);
    lines.setIrq(24, true);
    lines.setIrq(24, false);
    assertEquals(3, Eventfd.drain(edgefd));
    assertEquals(0, Eventfd.drain(irqfd));
  }

  @Test
  void aPulseOnALevelLineAssertsItUntilTheEoi() {
    lines.pulse(4);
    assertFalse(lines.high(4));
    assertEquals(1, Eventfd.drain(irqfd));
    eoi();
    assertEquals(0, Eventfd.drain(irqfd));
  }

  @Test
  void aLineWithoutAnIrqfdIsCountedAndDropped() {
    lines.setIrq(7, true);
    lines.pulse(7);
    assertEquals(2, lines.unrouted());
    assertEquals(0, lines.signals());
  }

  @Test
  void resampleFdsAreTheLevelLinesOnes() {
    assertEquals(
        List.of(resamplefd), java.util.Arrays.stream(lines.resampleFds()).boxed().toList());
    assertThrows(IllegalArgumentException.class, () -> lines.resampled(edgefd));
  }

  @Test
  void twoLinesOfOneKindOnOneGsiAreRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new IrqfdLines(
                List.of(new IrqfdLines.Irqfd(4, 10, 11), new IrqfdLines.Irqfd(4, 12, 13))));
  }
}
