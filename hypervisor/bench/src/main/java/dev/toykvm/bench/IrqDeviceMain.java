package dev.toykvm.bench;

import dev.toykvm.devices.IrqLine;
import dev.toykvm.devices.IrqfdLines;
import dev.toykvm.devices.TestDevice;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Poll;
import dev.toykvm.posix.Processes;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The device process of the interrupt latency rows ({@link DeviceProcessSource}): the test device
 * ({@link TestDevice}) in a JVM of its own, its interrupt registers driving its irqfd through
 * {@link IrqfdLines}, as {@code toykvm run --device testdev,irq=5} runs it; what would be a guest's
 * register write comes from the benchmark over a pipe instead, so that the benchmark chooses when.
 *
 * <pre>
 * java ... dev.toykvm.bench.IrqDeviceMain edge|level
 * </pre>
 *
 * <p>fd 3 is the irqfd (GSI {@value LatencyGuest#GSI}), fd 4 its resamplefd for {@code level}. Each
 * byte read on fd 0 is one register write: {@code IRQ_PULSE} (edge) or {@code IRQ_RAISE} (level;
 * the line is lowered with {@code IRQ_LOWER} when the resamplefd reports the guest's EOI, before
 * the next raise). For each, 8 bytes on fd 1: the {@link System#nanoTime()} (CLOCK_MONOTONIC) taken
 * in the device's {@link IrqLine} right before {@link IrqfdLines} writes the eventfd. 8 zero bytes
 * when ready. Exits 0 at EOF on fd 0, 1 on an error; dies with its parent.
 */
public final class IrqDeviceMain {
  private IrqDeviceMain() {}

  static final int IRQFD = 3;
  static final int RESAMPLEFD = 4;

  private static final ValueLayout.OfLong U64 =
      ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);

  public static void main(String[] args) {
    if (args.length != 1 || !(args[0].equals("edge") || args[0].equals("level"))) {
      System.err.println("usage: IrqDeviceMain edge|level");
      System.exit(2);
    }
    Processes.setParentDeathSignal(Processes.SIGKILL);
    if (Processes.getppid() == 1) {
      System.exit(1);
    }
    try {
      serve(args[0].equals("level"));
      System.exit(0);
    } catch (RuntimeException e) {
      System.err.println("irq device: " + e.getMessage());
      System.exit(1);
    }
  }

  private static void serve(boolean level) {
    IrqfdLines lines =
        new IrqfdLines(
            List.of(new IrqfdLines.Irqfd(LatencyGuest.GSI, IRQFD, level ? RESAMPLEFD : -1)));
    long[] stamp = new long[1];
    IrqLine stamped =
        new IrqLine() {
          @Override
          public void setIrq(int irq, boolean high) {
            if (high) {
              stamp[0] = System.nanoTime();
            }
            lines.setIrq(irq, high);
          }

          @Override
          public void pulse(int irq) {
            stamp[0] = System.nanoTime();
            lines.pulse(irq);
          }
        };
    TestDevice device = new TestDevice(stamped);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(8);
      buf.set(U64, 0, 0);
      Fds.writeFully(1, buf, 8);
      boolean raised = false;
      while (Fds.readFully(0, buf, 1) == 1) {
        if (raised) {
          if (!Poll.poll(RESAMPLEFD, 5000).readable()) {
            throw new IllegalStateException("no resample within 5 s of the last raise");
          }
          device.write(TestDevice.IRQ_LOWER, 8, LatencyGuest.GSI);
          lines.resampled(RESAMPLEFD);
        }
        device.write(level ? TestDevice.IRQ_RAISE : TestDevice.IRQ_PULSE, 8, LatencyGuest.GSI);
        raised = level;
        buf.set(U64, 0, stamp[0]);
        Fds.writeFully(1, buf, 8);
      }
    }
  }
}
