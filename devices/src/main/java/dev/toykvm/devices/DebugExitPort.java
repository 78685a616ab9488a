package dev.toykvm.devices;

import java.util.OptionalInt;

/**
 * The debug-exit port: a guest ends the whole VM by writing here, and what it wrote becomes the
 * VM's exit status. toykvm maps it at I/O port 0xf4, where QEMU's {@code isa-debug-exit} usually
 * sits (kvm-unit-tests: {@code -device isa-debug-exit,iobase=0xf4,iosize=0x4}).
 *
 * <p>Two modes ({@link Mode}):
 *
 * <ul>
 *   <li>{@link Mode#RAW} (the default, toykvm's own): the status is the low byte of the write.
 *   <li>{@link Mode#QEMU}: as QEMU's {@code isa-debug-exit}, which calls {@code exit((value << 1) |
 *       1)} with the whole value written (1, 2 or 4 bytes); the status is what a host process sees
 *       of that, its low 8 bits. So a guest writing 0 exits with 1, and no write can give 0.
 * </ul>
 *
 * <p>The offset of the write within the port's range does not matter. Reads return all-ones, as
 * from an empty port. The first write wins; later ones are ignored.
 */
public final class DebugExitPort implements BusDevice {

  /** How a written value becomes the exit status. */
  public enum Mode {
    /** The status is the low byte of the value written. */
    RAW,
    /** QEMU's {@code isa-debug-exit}: the status is {@code ((value << 1) | 1) & 0xff}. */
    QEMU
  }

  private final Mode mode;
  private volatile int status = -1;

  /** A port in {@link Mode#RAW}. */
  public DebugExitPort() {
    this(Mode.RAW);
  }

  public DebugExitPort(Mode mode) {
    this.mode = mode;
  }

  public Mode mode() {
    return mode;
  }

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
      long v = value & BusDevice.allOnes(size);
      status =
          switch (mode) {
            case RAW -> (int) (v & 0xff);
            case QEMU -> (int) (((v << 1) | 1) & 0xff);
          };
    }
  }
}
