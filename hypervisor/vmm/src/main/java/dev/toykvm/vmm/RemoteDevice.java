package dev.toykvm.vmm;

import dev.toykvm.devices.BusDevice;
import dev.toykvm.ioregionfd.DeviceProcess;
import dev.toykvm.ioregionfd.wire.IoregionCommand;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The old route, as QEMU's multi-process proxy does it: the access exits to the VMM, which forwards
 * it to the device process over the device's own pipes and waits for the answer (reads and writes
 * both wait). The same device process, the same wire protocol as ioregionfd; only the hop through
 * the VMM differs.
 *
 * <p>A device that fails is counted, logged once, and answered as an absent device would be (a read
 * gives all-ones): the VMM decides about the VM, never an exception out of the bus.
 */
final class RemoteDevice implements BusDevice {
  private static final Logger log = LoggerFactory.getLogger(RemoteDevice.class);

  private final String name;
  private final DeviceProcess process;
  private final Duration timeout;
  private long failures;
  private String firstFailure;

  RemoteDevice(String name, DeviceProcess process, Duration timeout) {
    this.name = name;
    this.process = process;
    this.timeout = timeout;
  }

  @Override
  public long read(long offset, int size) {
    try {
      return process.read(0, offset, size, timeout) & IoregionCommand.mask(size);
    } catch (RuntimeException e) {
      failed(e);
      return IoregionCommand.mask(size);
    }
  }

  @Override
  public void write(long offset, int size, long value) {
    try {
      process.write(0, offset, size, value, timeout);
    } catch (RuntimeException e) {
      failed(e);
    }
  }

  private void failed(RuntimeException e) {
    failures++;
    if (firstFailure == null) {
      firstFailure = e.getMessage();
      log.warn("device {} failed (route vmm): {}", name, firstFailure);
    }
  }

  /** Accesses that failed since the device started. */
  long failures() {
    return failures;
  }

  /** The first failure's message, or null. */
  String firstFailure() {
    return firstFailure;
  }
}
