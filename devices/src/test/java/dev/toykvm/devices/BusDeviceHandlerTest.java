package dev.toykvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BusDeviceHandlerTest {

  @Test
  void oneDeviceForEveryRegion() {
    TestDevice dev = new TestDevice();
    BusDeviceHandler h = BusDeviceHandler.of(dev);
    h.write(1, 0, 4, 0x1234);
    assertEquals(0x1234, h.read(2, 4, 4));
  }

  @Test
  void regionsByUserData() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TestDevice dev = new TestDevice();
    BusDeviceHandler h = BusDeviceHandler.byUserData(Map.of(1L, dev, 2L, new Uart16550(out)));
    h.write(1, 0, 1, 'x');
    h.write(2, Uart16550.RBR_THR_DLL, 1, 'y');
    assertEquals('x', dev.data());
    assertEquals("y", out.toString(StandardCharsets.US_ASCII));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> h.read(3, 0, 1));
    assertEquals(
        true, e.getMessage().startsWith("cannot route an access: no device has user_data 0x3"));
  }
}
