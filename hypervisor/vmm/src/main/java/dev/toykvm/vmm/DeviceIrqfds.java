package dev.toykvm.vmm;

import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import java.util.ArrayList;
import java.util.List;

/**
 * The eventfds a device process raises its interrupts with: for each level line ({@link
 * DeviceSpec#irqs()}) an irqfd and a resamplefd, for each edge line ({@link DeviceSpec#edgeIrqs()})
 * an irqfd. Made when the device starts, passed to it like its pipes (inherited fds, named on its
 * command line), registered by the VMM with {@code KVM_IRQFD} ({@link #interruptFds()}), and closed
 * with the device ({@link #close()}, after the VM is closed: the kernel side takes its own
 * references when they are registered, as KVM does).
 */
final class DeviceIrqfds implements AutoCloseable {

  /**
   * One irqfd to register: the fields of {@code struct kvm_irqfd}.
   *
   * @param gsi the GSI it raises
   * @param fd the eventfd the device writes
   * @param resampleFd the eventfd the kernel side signals when the guest acknowledged the interrupt
   *     (a level line), or -1 (an edge line)
   */
  record InterruptFd(int gsi, int fd, int resampleFd) {
    /**
     * {@code kvm_irqfd.flags}: {@link KvmConstants#KVM_IRQFD_FLAG_RESAMPLE} for a level line, else
     * 0.
     */
    int flags() {
      return resampleFd >= 0 ? KvmConstants.KVM_IRQFD_FLAG_RESAMPLE : 0;
    }

    /** The device's {@code --irqfd} argument, with the fd numbers the device will have. */
    String argument(int childFd, int childResampleFd) {
      return gsi + ":" + childFd + (resampleFd >= 0 ? ":" + childResampleFd : "");
    }
  }

  private final List<InterruptFd> fds;
  private final boolean pci;
  private boolean closed;

  private DeviceIrqfds(List<InterruptFd> fds) {
    this(fds, false);
  }

  private DeviceIrqfds(List<InterruptFd> fds, boolean pci) {
    this.fds = List.copyOf(fds);
    this.pci = pci;
  }

  /**
   * The irqfds of a PCI function: an edge irqfd per MSI-X vector, in vector order, then the INTx
   * level irqfd with its resamplefd. Where they are registered is the VMM's PCI interrupt routing
   * (the guest's MSI-X table, the PIIX3's PIRQ routes), not {@code KVM_IRQFD} at start.
   *
   * @param vectorGsis the GSI allocated to each vector
   * @param intxGsi the GSI the function's INTx pin is routed to now
   * @throws dev.toykvm.posix.PosixException if the process is out of fds (those made are closed)
   */
  static DeviceIrqfds forPci(List<Integer> vectorGsis, int intxGsi) {
    List<InterruptFd> made = new ArrayList<>();
    try {
      for (int gsi : vectorGsis) {
        made.add(new InterruptFd(gsi, Eventfd.create(), -1));
      }
      int fd = Eventfd.create();
      try {
        made.add(new InterruptFd(intxGsi, fd, Eventfd.create()));
      } catch (RuntimeException e) {
        Fds.close(fd);
        throw e;
      }
    } catch (RuntimeException e) {
      new DeviceIrqfds(made).close();
      throw e;
    }
    return new DeviceIrqfds(made, true);
  }

  /** Whether these are a PCI function's ({@link #forPci}). */
  boolean pci() {
    return pci;
  }

  /** A PCI function's MSI-X vector irqfds, in vector order (none for other devices). */
  List<InterruptFd> vectors() {
    return pci ? fds.subList(0, fds.size() - 1) : List.of();
  }

  /** A PCI function's INTx irqfd, or null. */
  InterruptFd intx() {
    return pci ? fds.getLast() : null;
  }

  /**
   * Makes the eventfds for {@code spec}'s lines.
   *
   * @throws dev.toykvm.posix.PosixException if the process is out of fds (those made are closed)
   */
  static DeviceIrqfds create(DeviceSpec spec) {
    List<InterruptFd> made = new ArrayList<>();
    try {
      for (int gsi : spec.irqs()) {
        int fd = Eventfd.create();
        int resample;
        try {
          resample = Eventfd.create();
        } catch (RuntimeException e) {
          Fds.close(fd);
          throw e;
        }
        made.add(new InterruptFd(gsi, fd, resample));
      }
      for (int gsi : spec.edgeIrqs()) {
        made.add(new InterruptFd(gsi, Eventfd.create(), -1));
      }
    } catch (RuntimeException e) {
      new DeviceIrqfds(made).close();
      throw e;
    }
    return new DeviceIrqfds(made);
  }

  /** What the VMM registers with {@code VmFd.irqfd}, one {@code KVM_IRQFD} each. */
  List<InterruptFd> interruptFds() {
    return fds;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (InterruptFd f : fds) {
      Fds.close(f.fd());
      if (f.resampleFd() >= 0) {
        Fds.close(f.resampleFd());
      }
    }
  }
}
