package dev.toykvm.devices.pc;

import dev.toykvm.devices.BusDevice;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A debug console port in the manner of QEMU's {@code isa-debugcon} and Bochs' port 0xe9 hack: one
 * I/O port that a guest writes characters to, and that reads back 0xe9 so that a guest can tell it
 * is there. A PC has two, as two instances of this class: 0xe9 (Bochs, QEMU's {@code -debugcon})
 * and 0x402 (where SeaBIOS and OVMF write their log on QEMU).
 *
 * <p>A write of any size sends its low byte to the sink (a guest writes one character with {@code
 * outb}; what QEMU does with a wider write is not in its documentation); the sink is flushed after
 * each newline. A read of any size returns 0xe9. If the sink fails, the output is dropped, logged
 * once, and the guest does not notice.
 */
public final class DebugConsole implements BusDevice {
  private static final Logger log = LoggerFactory.getLogger(DebugConsole.class);

  /** Bochs' and QEMU's {@code -debugcon} port. */
  public static final int BOCHS_PORT = 0xe9;

  /** The port SeaBIOS and OVMF log to on QEMU ({@code -device isa-debugcon,iobase=0x402}). */
  public static final int FIRMWARE_LOG_PORT = 0x402;

  /** One port. */
  public static final int SIZE = 1;

  /** What a read returns: QEMU's default {@code readback} value. */
  public static final int READBACK = 0xe9;

  private final OutputStream sink;
  private final AtomicLong dropped = new AtomicLong();
  private volatile boolean failureLogged;

  /**
   * @param sink where the bytes written go, one {@code write(int)} each
   */
  public DebugConsole(OutputStream sink) {
    this.sink = sink;
  }

  /** Bytes lost because the sink failed. */
  public long droppedBytes() {
    return dropped.get();
  }

  @Override
  public long read(long offset, int size) {
    return READBACK;
  }

  @Override
  public synchronized void write(long offset, int size, long value) {
    int b = (int) (value & 0xff);
    try {
      sink.write(b);
      if (b == '\n') {
        sink.flush();
      }
    } catch (IOException e) {
      dropped.incrementAndGet();
      if (!failureLogged) {
        failureLogged = true;
        log.warn("debug console: cannot write the output, dropping it: {}", e.toString());
      }
    }
  }
}
