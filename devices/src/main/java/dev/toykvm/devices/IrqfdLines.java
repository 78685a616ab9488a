package dev.toykvm.devices;

import dev.toykvm.posix.Eventfd;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device side of KVM irqfds: a device's interrupt lines, each an eventfd the VMM registers with
 * {@code KVM_IRQFD} on a GSI, so that the kernel side injects without the VMM seeing anything.
 *
 * <p>A <b>level</b> line has a resamplefd ({@code KVM_IRQFD_FLAG_RESAMPLE}) and follows KVM's
 * contract for it (Documentation/virt/kvm/api.rst, KVM_IRQFD): a write to the irqfd asserts the
 * GSI, and only the kernel deasserts it, when the guest acknowledges the interrupt (an EOI), after
 * which it signals the resamplefd; the device then asserts again if its line is still high. So: the
 * line rising writes the irqfd unless the GSI is already asserted (written, and no resample since);
 * the line falling writes nothing; a resample ({@link #resampled}) writes the irqfd again if the
 * line is high. An interrupt the device withdraws before the guest takes it may therefore still
 * arrive once (as with VFIO's INTx), and a guest's EOI is what lets a still-high line interrupt
 * again.
 *
 * <p>An <b>edge</b> line has no resamplefd (for MSI routes, which are never acknowledged, or
 * edge-triggered pins): each write to the irqfd is one edge (KVM raises and lowers the GSI). A
 * rising line or {@link #pulse} writes it.
 *
 * <p>A GSI may have both a level and an edge line: {@link #setIrq} uses the level one, {@link
 * #pulse} the edge one. A line the device drives but has no irqfd for is counted ({@link
 * #unrouted()}) and logged once. Thread-safe. Owns no fd: the process's fds live as long as it.
 */
public final class IrqfdLines implements IrqLine {
  private static final Logger log = LoggerFactory.getLogger(IrqfdLines.class);

  /**
   * One irqfd of the device.
   *
   * @param gsi the GSI it is registered on
   * @param fd the irqfd (an eventfd)
   * @param resampleFd its resamplefd, or -1 for an edge line
   */
  public record Irqfd(int gsi, int fd, int resampleFd) {
    /** Whether it is a level line (with a resamplefd). */
    public boolean level() {
      return resampleFd >= 0;
    }
  }

  private static final class Line {
    final Irqfd irqfd;
    boolean high;
    boolean asserted;

    Line(Irqfd irqfd) {
      this.irqfd = irqfd;
    }
  }

  private final Map<Integer, Line> level = new HashMap<>();
  private final Map<Integer, Line> edge = new HashMap<>();
  private final Map<Integer, Line> byResampleFd = new HashMap<>();
  private final List<Irqfd> irqfds;
  private long signals;
  private long resamples;
  private long unrouted;
  private boolean unroutedLogged;

  /**
   * @throws IllegalArgumentException if two lines of the same kind share a GSI
   */
  public IrqfdLines(List<Irqfd> irqfds) {
    this.irqfds = List.copyOf(irqfds);
    for (Irqfd i : this.irqfds) {
      Line line = new Line(i);
      if ((i.level() ? level : edge).put(i.gsi(), line) != null) {
        throw new IllegalArgumentException(
            "cannot drive GSI " + i.gsi() + ": two " + (i.level() ? "level" : "edge") + " irqfds");
      }
      if (i.level()) {
        byResampleFd.put(i.resampleFd(), line);
      }
    }
  }

  /** The irqfds, as given. */
  public List<Irqfd> irqfds() {
    return irqfds;
  }

  /** The resamplefds to wait on, in the order of {@link #irqfds()}. */
  public int[] resampleFds() {
    return irqfds.stream().filter(Irqfd::level).mapToInt(Irqfd::resampleFd).toArray();
  }

  @Override
  public synchronized void setIrq(int gsi, boolean high) {
    Line line = level.get(gsi);
    if (line == null) {
      line = edge.get(gsi);
      if (line == null) {
        unrouted(gsi);
        return;
      }
      if (high && !line.high) {
        signal(line);
      }
      line.high = high;
      return;
    }
    line.high = high;
    if (high && !line.asserted) {
      signal(line);
    }
  }

  @Override
  public synchronized void pulse(int gsi) {
    Line line = edge.get(gsi);
    if (line != null) {
      signal(line);
      return;
    }
    if (!level.containsKey(gsi)) {
      unrouted(gsi);
      return;
    }
    setIrq(gsi, true);
    setIrq(gsi, false);
  }

  /**
   * The kernel side signalled {@code resampleFd} (the guest acknowledged the interrupt and the GSI
   * is deasserted): reads its counter, and asserts again if the line is still high.
   *
   * @throws IllegalArgumentException if it is not one of this device's resamplefds
   */
  public synchronized void resampled(int resampleFd) {
    Line line = byResampleFd.get(resampleFd);
    if (line == null) {
      throw new IllegalArgumentException("fd " + resampleFd + " is not a resamplefd of the device");
    }
    if (Eventfd.drain(resampleFd) == 0) {
      return; // a spurious wake-up: nothing was acknowledged
    }
    resamples++;
    line.asserted = false;
    if (line.high) {
      signal(line);
    }
  }

  /** Whether line {@code gsi} (its level line, else its edge line) is high. */
  public synchronized boolean high(int gsi) {
    Line line = level.containsKey(gsi) ? level.get(gsi) : edge.get(gsi);
    return line != null && line.high;
  }

  /** Writes to irqfds so far. */
  public synchronized long signals() {
    return signals;
  }

  /** Resamples seen so far. */
  public synchronized long resamples() {
    return resamples;
  }

  /** Times the device drove a line that has no irqfd. */
  public synchronized long unrouted() {
    return unrouted;
  }

  private void signal(Line line) {
    Eventfd.signal(line.irqfd.fd());
    line.asserted = true;
    signals++;
  }

  private void unrouted(int gsi) {
    unrouted++;
    if (!unroutedLogged) {
      unroutedLogged = true;
      log.info(
          "irqfd: the device drove line {}, which has no irqfd (give the device irq={}); dropped"
              + " (said once)",
          gsi,
          gsi);
    }
  }
}
