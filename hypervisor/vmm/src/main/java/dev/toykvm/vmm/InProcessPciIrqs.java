package dev.toykvm.vmm;

import dev.toykvm.devices.IrqfdLines;
import dev.toykvm.devices.pci.PciInterrupts;
import dev.toykvm.devices.pci.PciIrqfds;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Poll;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The interrupts of a PCI model that runs in the VMM ({@code route=in-process}), made the way a
 * device process makes its own: one edge eventfd per MSI-X vector and a level eventfd with a
 * resamplefd for INTx ({@link DeviceIrqfds#forPci}), which the VMM's PCI interrupt routing
 * registers like a device process's, and which the model drives through {@link PciIrqfds}. The
 * resamplefd, which a device process polls beside its commands, is watched here by one thread
 * ({@code NAME resample}) that calls {@link IrqfdLines#resampled} (thread-safe; it only writes the
 * irqfd again if the line is still high, and never calls the model).
 *
 * <p>Closed with the devices, after the VM: the thread is stopped and joined, then the eventfds are
 * closed.
 */
final class InProcessPciIrqs implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(InProcessPciIrqs.class);

  private final DeviceIrqfds fds;
  private final IrqfdLines lines;
  private final PciIrqfds interrupts;
  private final int stopFd;
  private final Thread watcher;

  private InProcessPciIrqs(DeviceIrqfds fds, String name) {
    this.fds = fds;
    List<IrqfdLines.Irqfd> all = new ArrayList<>();
    for (DeviceIrqfds.InterruptFd f : fds.interruptFds()) {
      all.add(new IrqfdLines.Irqfd(f.gsi(), f.fd(), f.resampleFd()));
    }
    this.lines = new IrqfdLines(all);
    this.interrupts =
        new PciIrqfds(
            lines,
            fds.vectors().stream().map(DeviceIrqfds.InterruptFd::gsi).toList(),
            fds.intx().gsi());
    this.stopFd = Eventfd.create();
    int resample = fds.intx().resampleFd();
    this.watcher =
        Thread.ofPlatform().daemon().name(name + " resample").start(() -> watch(name, resample));
  }

  /**
   * Makes the eventfds and starts the resample watcher.
   *
   * @param vectorGsis the names of the vectors' lines (their GSIs are the routing's)
   * @param intxGsi the name of the INTx line
   */
  static InProcessPciIrqs start(String name, List<Integer> vectorGsis, int intxGsi) {
    DeviceIrqfds fds = DeviceIrqfds.forPci(vectorGsis, intxGsi);
    try {
      return new InProcessPciIrqs(fds, name);
    } catch (RuntimeException e) {
      fds.close();
      throw e;
    }
  }

  private void watch(String name, int resample) {
    int[] watched = {resample, stopFd};
    try {
      while (true) {
        int[] revents = Poll.poll(watched, new int[] {Poll.POLLIN, Poll.POLLIN}, -1);
        if (revents[1] != 0) {
          return;
        }
        if (revents[0] != 0) {
          lines.resampled(resample);
        }
      }
    } catch (RuntimeException e) {
      log.warn("devices: {}: the INTx resample watcher stopped: {}", name, e.toString());
    }
  }

  /** What the model raises its interrupts with. */
  PciInterrupts interrupts() {
    return interrupts;
  }

  /** The vectors' eventfds, in vector order, for the MSI-X routing. */
  List<DeviceIrqfds.InterruptFd> vectors() {
    return fds.vectors();
  }

  /** The INTx eventfd and its resamplefd, for the INTx routing. */
  DeviceIrqfds.InterruptFd intx() {
    return fds.intx();
  }

  @Override
  public void close() {
    Eventfd.signal(stopFd);
    try {
      watcher.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Fds.close(stopFd);
    fds.close();
  }
}
