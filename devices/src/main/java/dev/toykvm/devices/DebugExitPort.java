package dev.toykvm.devices;

import java.util.OptionalInt;

/**
 * The debug-exit port: a guest ends the whole VM by writing one byte here, and the byte is the VM's
 * exit status (0 = success). toykvm maps it at I/O port 0xf4, where QEMU's {@code isa-debug-exit}
 * usually sits; unlike QEMU's device, the status is the byte itself, not {@code (byte << 1) | 1}.
 *
 * <p>A wider write uses its low byte. Reads return all-ones, as from an empty port. The first write
 * wins; later ones are ignored.
 */
public final class DebugExitPort implements BusDevice {
  private volatile int status = -1;

  /** The status the guest wrote, if it wrote one. */
  public OptionalInt status() {
    int s = status;
    return s < 0 ? OptionalInt.empty() : OptionalInt.of(s);
  }

  @Override
  public long read(long offset, int size) {
    return BusDevice.allOnes(size);
  }

  @Override
  public synchronized void write(long offset, int size, long value) {
    if (status < 0) {
      status = (int) (value & 0xff);
    }
  }
}
