package dev.toykvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link TestDevice}'s interrupt registers. */
class TestDeviceIrqTest {
  private final List<String> calls = new ArrayList<>();
  private final TestDevice dev =
      new TestDevice(
          new IrqLine() {
            @Override
            public void setIrq(int irq, boolean level) {
              calls.add((level ? "raise " : "lower ") + irq);
            }

            @Override
            public void pulse(int irq) {
              calls.add("pulse " + irq);
            }
          });

  @Test
  void pulseRaiseAndLowerDriveTheLineNamedByTheValue() {
    dev.write(TestDevice.IRQ_PULSE, 4, 24);
    dev.write(TestDevice.IRQ_RAISE, 1, 5);
    dev.write(TestDevice.IRQ_LOWER, 8, 5);
    assertEquals(List.of("pulse 24", "raise 5", "lower 5"), calls);
  }

  @Test
  void irqRaisedShowsTheLinesHeldRaised() {
    dev.write(TestDevice.IRQ_RAISE, 4, 5);
    dev.write(TestDevice.IRQ_RAISE, 4, 63);
    dev.write(TestDevice.IRQ_PULSE, 4, 7);
    assertEquals(1L << 5 | 1L << 63, dev.read(TestDevice.IRQ_RAISED, 8));
    dev.write(TestDevice.IRQ_LOWER, 4, 5);
    assertEquals(1L << 63, dev.read(TestDevice.IRQ_RAISED, 8));
    assertEquals(0x8000_0000L, dev.read(TestDevice.IRQ_RAISED + 4, 4), "the high half");
  }

  @Test
  void theInterruptRegistersReadZeroAndAreNotIgnoredWrites() {
    dev.write(TestDevice.IRQ_PULSE, 4, 1);
    assertEquals(0, dev.read(TestDevice.IRQ_PULSE, 8));
    assertEquals(0, dev.read(TestDevice.IRQ_RAISE, 8));
    assertEquals(0, dev.ignoredWrites());
  }

  @Test
  void withoutALineTheRegistersDriveNothing() {
    TestDevice plain = new TestDevice();
    plain.write(TestDevice.IRQ_RAISE, 4, 3);
    assertEquals(1L << 3, plain.read(TestDevice.IRQ_RAISED, 8));
  }
}
