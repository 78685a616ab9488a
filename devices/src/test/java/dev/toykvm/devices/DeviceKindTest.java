package dev.toykvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class DeviceKindTest {
  @Test
  void labelsNameEachKindOnce() {
    for (DeviceKind k : DeviceKind.values()) {
      assertEquals(Optional.of(k), DeviceKind.byLabel(k.label()));
    }
    assertEquals(Optional.empty(), DeviceKind.byLabel("UART"));
    assertEquals("uart, testdev, pc-testdev, nvme", DeviceKind.modelLabels());
  }

  @Test
  void modelsAreMadeAndExecHasNone() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertInstanceOf(Uart16550.class, DeviceKind.UART.create(out));
    assertInstanceOf(TestDevice.class, DeviceKind.TESTDEV.create(null));
    assertThrows(IllegalStateException.class, () -> DeviceKind.EXEC.create(out));
    assertThrows(IllegalStateException.class, () -> DeviceKind.NVME.create(out));
    assertEquals(OptionalLong.of(0x4000), DeviceKind.NVME.defaultSize(), "BAR0");
    assertEquals(true, DeviceKind.NVME.isPci());
    assertEquals(false, DeviceKind.UART.isPci());
    assertEquals(OptionalLong.of(8), DeviceKind.UART.defaultSize());
    assertEquals(OptionalLong.empty(), DeviceKind.EXEC.defaultSize());
  }
}
