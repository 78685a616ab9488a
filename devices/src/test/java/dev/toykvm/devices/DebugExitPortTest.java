package dev.toykvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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
  void theDefaultModeIsRaw() {
    assertEquals(DebugExitPort.Mode.RAW, new DebugExitPort().mode());
  }

  @ParameterizedTest(name = "QEMU mode: {0}-byte write of {1} exits with {2}")
  @CsvSource({
    "1, 0x00, 1", // kvm-unit-tests' exit(0): PASS is 1
    "1, 0x01, 3", // exit(1): FAIL is 3
    "1, 0x7f, 0xff",
    "1, 0x80, 1", // (0x80 << 1) | 1 = 0x101: a process keeps the low 8 bits
    "2, 0x0002, 5",
    "2, 0x1234_0003, 7", // only the 2 bytes written count
    "4, 0x0000_0004, 9",
    "4, 0x8000_0000, 1",
    "4, 0x0000_0040, 0x81",
  })
  void qemuModeExitsWithValueShiftedLeftOrOne(int size, String value, String status) {
    DebugExitPort port = new DebugExitPort(DebugExitPort.Mode.QEMU);
    port.write(0, size, Long.decode(value.replace("_", "")));
    assertEquals(OptionalInt.of(Integer.decode(status)), port.status());
  }

  @Test
  void qemuModeFirstWriteWinsAndOffsetDoesNotMatter() {
    DebugExitPort port = new DebugExitPort(DebugExitPort.Mode.QEMU);
    port.write(2, 1, 2);
    port.write(0, 1, 0);
    assertEquals(OptionalInt.of(5), port.status());
  }

  @Test
  void readsAreAllOnes() {
    DebugExitPort port = new DebugExitPort();
    assertEquals(0xff, port.read(0, 1));
    assertEquals(0xffff_ffffL, port.read(0, 4));
    assertEquals(-1L, port.read(0, 8));
  }
}
