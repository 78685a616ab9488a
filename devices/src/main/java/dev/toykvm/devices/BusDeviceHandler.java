package dev.toykvm.devices;

import dev.toykvm.ioregionfd.IoregionHandler;
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

  private BusDeviceHandler(BusDevice single, Map<Long, BusDevice> byUserData) {
    this.single = single;
    this.byUserData = byUserData;
  }

  /** Every region on the fds is {@code device}, whatever its {@code user_data}. */
  public static BusDeviceHandler of(BusDevice device) {
    return new BusDeviceHandler(java.util.Objects.requireNonNull(device), Map.of());
  }

  /** Each region is the device its {@code user_data} maps to. */
  public static BusDeviceHandler byUserData(Map<Long, BusDevice> devices) {
    return new BusDeviceHandler(null, Map.copyOf(devices));
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
    BusDevice d = byUserData.get(userData);
    if (d == null) {
      throw new IllegalArgumentException(
          String.format(
              "cannot route an access: no device has user_data 0x%x (known: %s)",
              userData, byUserData.keySet()));
    }
    return d;
  }
}
