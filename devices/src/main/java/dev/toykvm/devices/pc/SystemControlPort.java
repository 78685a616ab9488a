package dev.toykvm.devices.pc;

import dev.toykvm.devices.BusDevice;

/**
 * System control port A, I/O port 0x92 (IBM PS/2; QEMU's {@code port92}): bit 1 gates address line
 * 20, bit 0 is the fast reset.
 *
 * <p>A write stores the byte; bit 1 sets the A20 gate ({@link #a20()}); bit 0 going from 0 to 1
 * resets the machine through the injected handler, and then reads back as 0 (the reset cleared it,
 * as QEMU's reset of the device does). A read returns the byte. A wider access uses its low byte
 * (the other bytes are other ports, which this device does not answer: they read 0xff).
 *
 * <p>The A20 gate is only kept: nothing masks address line 20 (the guest sees all memory, as with
 * A20 always on). Thread-safe.
 */
public final class SystemControlPort implements BusDevice {

  public static final int PORT = 0x92;
  public static final int SIZE = 1;

  public static final int FAST_RESET = 0x01;
  public static final int A20 = 0x02;

  private final Runnable reset;
  private int value;

  /**
   * @param reset resets the machine; called on the vCPU thread that wrote, holding no lock
   */
  public SystemControlPort(Runnable reset) {
    this.reset = reset;
  }

  /** Whether the guest enabled the A20 gate here. */
  public synchronized boolean a20() {
    return (value & A20) != 0;
  }

  @Override
  public synchronized long read(long offset, int size) {
    return value | (BusDevice.allOnes(size) & ~0xffL);
  }

  @Override
  public void write(long offset, int size, long v) {
    boolean resetNow;
    synchronized (this) {
      int old = value;
      value = (int) (v & 0xff);
      resetNow = (value & FAST_RESET) != 0 && (old & FAST_RESET) == 0;
      if (resetNow) {
        value &= ~FAST_RESET;
      }
    }
    if (resetNow) {
      reset.run();
    }
  }
}
