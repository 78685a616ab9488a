package dev.toykvm.devices;

import dev.toykvm.ioregionfd.IoregionHandler;
import java.util.List;
import java.util.Map;

/**
 * Serves {@link BusDevice}s behind an {@link dev.toykvm.ioregionfd.IoregionServer}: the same device
 * class as in the VMM, now in its own process.
 *
 * <p>Either one device for every region on the fds, or one device per {@code user_data}. A command
 * for a {@code user_data} that names no device is a wiring mistake of the VMM, not something the
 * guest did: it throws, which stops the server.
 */
public final class BusDeviceHandler implements IoregionHandler {
  private final BusDevice single;
  private final Map<Long, BusDevice> byUserData;

  private final boolean byWindow;

  private BusDeviceHandler(BusDevice single, Map<Long, BusDevice> byUserData) {
    this(single, byUserData, false);
  }

  private BusDeviceHandler(BusDevice single, Map<Long, BusDevice> byUserData, boolean byWindow) {
    this.single = single;
    this.byUserData = byUserData;
    this.byWindow = byWindow;
  }

  /** Every region on the fds is {@code device}, whatever its {@code user_data}. */
  public static BusDeviceHandler of(BusDevice device) {
    return new BusDeviceHandler(java.util.Objects.requireNonNull(device), Map.of());
  }

  /** Each region is the device its {@code user_data} maps to. */
  public static BusDeviceHandler byUserData(Map<Long, BusDevice> devices) {
    return new BusDeviceHandler(null, Map.copyOf(devices));
  }

  /**
   * Bits 48-55 of {@code user_data} name the window of a device with several ({@link
   * DeviceKind#extraWindows()}): 0 is its main range, {@code n} its extra window {@code n}.
   */
  public static final int WINDOW_SHIFT = 48;

  /**
   * One device with several windows: {@code windows.get(n)} serves the regions whose {@code
   * user_data} has window number {@code n} in bits 48-55 (the low bits are the VMM's, ignored).
   */
  public static BusDeviceHandler byWindow(List<BusDevice> windows) {
    Map<Long, BusDevice> m = new java.util.HashMap<>();
    for (int i = 0; i < windows.size(); i++) {
      m.put((long) i, windows.get(i));
    }
    return new BusDeviceHandler(null, Map.copyOf(m), true);
  }

  @Override
  public long read(long userData, long offset, int size) {
    return device(userData).read(offset, size);
  }

  @Override
  public void write(long userData, long offset, int size, long value) {
    device(userData).write(offset, size, value);
  }

  private BusDevice device(long userData) {
    if (single != null) {
      return single;
    }
    BusDevice d = byUserData.get(byWindow ? (userData >>> WINDOW_SHIFT) & 0xff : userData);
    if (d == null) {
      throw new IllegalArgumentException(
          String.format(
              "cannot route an access: no device has user_data 0x%x (known: %s)",
              userData, byUserData.keySet()));
    }
    return d;
  }
}
