package dev.toykvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class DebugExitPortTest {
  @Test
  void noStatusUntilWritten() {
    assertTrue(new DebugExitPort().status().isEmpty());
  }

  @Test
  void theByteWrittenIsTheStatus() {
    DebugExitPort port = new DebugExitPort();
    port.write(0, 1, 42);
    assertEquals(OptionalInt.of(42), port.status());
  }

  @Test
  void aWideWriteUsesItsLowByteAndTheFirstWriteWins() {
    DebugExitPort port = new DebugExitPort();
    port.write(0, 4, 0x1234_5601);
    port.write(0, 1, 7);
    assertEquals(OptionalInt.of(1), port.status());
  }

  @Test
  void readsAreAllOnes() {
    DebugExitPort port = new DebugExitPort();
    assertEquals(0xff, port.read(0, 1));
    assertEquals(0xffff_ffffL, port.read(0, 4));
    assertEquals(-1L, port.read(0, 8));
  }
}
