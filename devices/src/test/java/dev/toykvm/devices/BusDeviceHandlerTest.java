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

  @Test
  void pcTestdevWindowsByTheWindowNumberInUserData() {
    BusDeviceHandler h = DeviceKind.PC_TESTDEV.handler(null);
    long vmmIndex = 7;
    h.write(vmmIndex, dev.toykvm.devices.pc.PcTestdev.SCRATCH, 4, 0x11223344);
    assertEquals(0x11223344, h.read(vmmIndex, 0, 4), "window 0: the ports at 0xe0");
    long iomem = vmmIndex | 2L << BusDeviceHandler.WINDOW_SHIFT;
    h.write(iomem, 0xfffc, 4, 0xcafef00dL);
    assertEquals(0xcafef00dL, h.read(iomem, 0xfffc, 4), "window 2: the memory at 0xff000000");
    assertEquals(0x11223344, h.read(vmmIndex, 0, 4), "windows are separate");
    long irq = vmmIndex | 1L << BusDeviceHandler.WINDOW_SHIFT;
    assertEquals(0, h.read(irq, 5, 1), "window 1: the IRQ-line ports read 0");
    assertThrows(
        IllegalArgumentException.class,
        () -> h.read(vmmIndex | 3L << BusDeviceHandler.WINDOW_SHIFT, 0, 1),
        "no window 3");
  }

  @Test
  void pcTestdevHasTwoExtraWindowsWhereQemuPutsThem() {
    assertEquals(
        java.util.List.of(
            new DeviceKind.Window(1, true, 0x2000, 24),
            new DeviceKind.Window(2, false, 0xff000000L, 0x10000)),
        DeviceKind.PC_TESTDEV.extraWindows());
    assertEquals(java.util.List.of(), DeviceKind.UART.extraWindows());
  }
}
