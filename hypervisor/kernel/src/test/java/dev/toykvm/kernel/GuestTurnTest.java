package dev.toykvm.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The guest turn: one holder at a time, let go in device waits, handed over after a slice. */
@Timeout(30)
class GuestTurnTest {
  @Test
  void releaseSaysWhetherItWasHeldAndWithoutTakesItBack() {
    GuestTurn.Hold hold = new GuestTurn().hold();
    assertFalse(hold.release(), "not held yet");
    hold.take();
    AtomicBoolean heldInside = new AtomicBoolean(true);
    long v =
        hold.without(
            () -> {
              heldInside.set(hold.release()); // nested: nothing to let go
              return 42;
            });
    assertEquals(42, v);
    assertFalse(heldInside.get());
    assertTrue(hold.release(), "taken back after the access");
    assertEquals(
        7, hold.without(() -> 7), "without() on a turn not held neither takes nor releases it");
    assertFalse(hold.release());
  }

  @Test
  void anotherVcpuGetsTheTurnWhileItIsLetGoAndAfterASlice() throws Exception {
    GuestTurn turn = new GuestTurn();
    GuestTurn.Hold a = turn.hold();
    GuestTurn.Hold b = turn.hold();
    a.take();
    CompletableFuture<Void> other =
        CompletableFuture.runAsync(
            () -> {
              b.take();
              b.release();
            },
            r -> Thread.ofPlatform().start(r));
    // a keeps the turn through block starts until its slice is over, then hands it over.
    while (!other.isDone()) {
      a.yieldIfDue(System.nanoTime());
    }
    other.get(10, TimeUnit.SECONDS);
    assertTrue(a.release(), "a has the turn again after b");
  }
}
