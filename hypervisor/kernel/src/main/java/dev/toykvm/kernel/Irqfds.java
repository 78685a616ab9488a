package dev.toykvm.kernel;

import static dev.toykvm.kvm.KvmConstants.KVM_IRQFD_FLAG_RESAMPLE;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmIrqfd;
import dev.toykvm.posix.Epoll;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.PosixException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A VM's irqfds ({@code KVM_IRQFD}, KVM's {@code virt/kvm/eventfd.c}) and the kernel thread that
 * injects them: {@code vmN-irqfd} polls every assigned eventfd and a control eventfd of its own
 * (signalled on every change and at close), reads a ready counter without blocking, and raises the
 * GSI through the current routing ({@link IrqRouting}): a pulse for an edge irqfd, an assertion
 * kept until the EOI for a resampling one ({@link Resampler}). No VMM thread takes part.
 *
 * <p>Locking: {@link #lock} guards the list and the resamplers; an injection, a deassign and a
 * resampler's EOI run under it, so once {@link #deassign} returns that irqfd injects nothing more
 * (KVM flushes its work queue for the same promise), and an fd is closed only under it after its
 * irqfd is marked inactive, so the thread never reads a number that was closed (and perhaps
 * reused). The thread may still poll a closed number for one round: it sees POLLNVAL or a stale
 * readiness, checks {@code active}, and takes a new snapshot. Lock order: this lock, then the
 * interrupt controllers' locks (an EOI reaches a resampler with none of theirs held).
 */
final class Irqfds implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Irqfds.class);
  static final String IOCTL = "KVM_IRQFD";
  private static final AtomicInteger VMS = new AtomicInteger();

  private final IrqRouting routing;
  private final VmStats stats;
  private final Object lock = new Object();
  private final List<Irqfd> irqfds = new ArrayList<>(); // under lock
  private final Map<Integer, Resampler> resamplers = new HashMap<>(); // under lock, by GSI
  private final Map<Long, Irqfd> byId = new HashMap<>(); // under lock: the epoll data of each
  private final Map<VcpuIrq, HaltPoller> pollers = new HashMap<>(); // under lock
  private long nextId = 1; // under lock; 0 is the control eventfd (and HaltPoller.WAKE)
  private final int control;
  private final int epoll; // the thread's interest list: control, every irqfd
  private final Thread thread;
  private boolean closed; // under lock

  /** One assigned irqfd: the kernel side's duplicates of the VMM's eventfds. */
  private static final class Irqfd {
    final long id;
    final int fd;
    final long eventfdId;
    final int gsi;
    final Resampler resampler; // null for an edge irqfd
    final int resampleFd; // -1 for an edge irqfd
    boolean active = true; // under lock

    Irqfd(long id, int fd, long eventfdId, int gsi, Resampler resampler, int resampleFd) {
      this.id = id;
      this.fd = fd;
      this.eventfdId = eventfdId;
      this.gsi = gsi;
      this.resampler = resampler;
      this.resampleFd = resampleFd;
    }
  }

  /**
   * The resampling irqfds of one GSI, which share its line (KVM's {@code _irqfd_resampler}): the
   * ack notifier of the GSI lowers the line once and signals every member's resamplefd.
   */
  private final class Resampler implements Runnable {
    final int gsi;
    final List<Irqfd> members = new ArrayList<>(); // under lock

    Resampler(int gsi) {
      this.gsi = gsi;
    }

    @Override
    public void run() {
      synchronized (lock) {
        if (members.isEmpty()) {
          return;
        }
        routing.setIrq(IrqRouting.SOURCE_RESAMPLE, gsi, false);
        for (Irqfd member : members) {
          try {
            Eventfd.signal(member.resampleFd);
          } catch (PosixException e) {
            log.warn("cannot signal the resamplefd of GSI {}: {}", gsi, e.getMessage());
          }
        }
      }
    }
  }

  private Irqfds(IrqRouting routing, int control, int epoll, VmStats stats) {
    this.routing = routing;
    this.stats = stats;
    this.control = control;
    this.epoll = epoll;
    this.thread =
        Thread.ofPlatform()
            .daemon()
            .name("vm" + VMS.incrementAndGet() + "-irqfd")
            .unstarted(this::loop);
  }

  /**
   * Makes a VM's irqfd machinery and starts its thread; its injections count in {@code stats}.
   *
   * @throws KvmException {@code EMFILE} without an fd for the control eventfd, {@code ENOMEM} if
   *     the thread cannot be started (nothing is kept)
   */
  static Irqfds start(IrqRouting routing, VmStats stats) {
    int control;
    int epoll;
    try {
      control = Eventfd.create();
    } catch (PosixException e) {
      throw new KvmException(IOCTL, Errno.EMFILE, "cannot make the irqfd thread's eventfd: " + e);
    }
    try {
      epoll = Epoll.create();
      try {
        Epoll.add(epoll, control, Epoll.EPOLLIN, 0);
      } catch (PosixException e) {
        Fds.close(epoll);
        throw e;
      }
    } catch (PosixException e) {
      Fds.close(control);
      throw new KvmException(IOCTL, Errno.EMFILE, "cannot make the irqfd thread's epoll: " + e);
    }
    try {
      Irqfds irqfds = new Irqfds(routing, control, epoll, stats);
      irqfds.thread.start();
      routing.chip().irqfds(irqfds); // from now on every vCPU, old and new, gets a HaltPoller
      return irqfds;
    } catch (RuntimeException | OutOfMemoryError e) {
      Fds.close(epoll);
      Fds.close(control);
      throw new KvmException(IOCTL, Errno.ENOMEM, "cannot start the irqfd thread: " + e);
    }
  }

  /**
   * Gives {@code vcpu} a {@link HaltPoller} with every edge irqfd, attached ahead of the irqfd
   * thread's attachment (the thread's is moved behind it), so that a halted vCPU takes an MSI
   * before the thread would. Idempotent; without fds the vCPU keeps waiting as before (the thread
   * injects for it).
   */
  void addPoller(VcpuIrq vcpu) {
    synchronized (lock) {
      if (closed || pollers.containsKey(vcpu)) {
        return;
      }
      HaltPoller p;
      try {
        p = HaltPoller.create();
      } catch (PosixException e) {
        log.warn("vcpu{}: no epoll for halted waits ({}); the irqfd thread injects", vcpu.id(), e);
        return;
      }
      try {
        for (Irqfd irqfd : irqfds) {
          if (irqfd.resampler == null) {
            p.attach(irqfd.fd, irqfd.id);
            reattachBehind(irqfd);
          }
        }
      } catch (PosixException e) {
        p.close();
        log.warn("vcpu{}: cannot attach its irqfds ({}); the irqfd thread injects", vcpu.id(), e);
        return;
      }
      pollers.put(vcpu, p);
      vcpu.poller(p, this);
    }
  }

  /** Takes a vCPU's poller away (the vCPU is going): it waits as before, and its fds close. */
  void removePoller(VcpuIrq vcpu) {
    synchronized (lock) {
      HaltPoller p = pollers.remove(vcpu);
      if (p != null) {
        vcpu.poller(null, null);
        p.close();
      }
    }
  }

  /**
   * Moves the thread's attachment of an edge irqfd to the end of the eventfd's wait queue. If the
   * new attachment cannot be made (the kernel is out of memory), the old one is gone: the irqfd is
   * then served by halted vCPUs only, which is said at ERROR level.
   */
  private void reattachBehind(Irqfd irqfd) {
    Epoll.delete(epoll, irqfd.fd);
    try {
      Epoll.add(epoll, irqfd.fd, Epoll.EPOLLIN | Epoll.EPOLLEXCLUSIVE, irqfd.id);
    } catch (PosixException e) {
      log.error(
          "the irqfd thread no longer watches the irqfd of GSI {} ({}): only a halted vCPU injects"
              + " it",
          irqfd.gsi,
          e.getMessage());
    }
  }

  /**
   * The fd checks of {@code eventfd_ctx_fdget}: {@code EBADF} if {@code fd} is not open, {@code
   * EINVAL} if it is not an eventfd.
   */
  static void checkEventfd(String which, int fd) {
    if (fd < 0 || !Fds.isOpen(fd)) {
      throw new KvmException(IOCTL, Errno.EBADF, which + " " + fd + " is not an open fd");
    }
    if (!Eventfd.isEventfd(fd)) {
      throw new KvmException(IOCTL, Errno.EINVAL, which + " " + fd + " is not an eventfd");
    }
  }

  /** An eventfd's identity: the kernel's eventfd-id, or (older kernels) its fd number. */
  private static long identity(int fd) {
    long id = Eventfd.id(fd);
    return id >= 0 ? id : -2L - fd;
  }

  /** Assigns an irqfd (flags checked by the caller: 0 or {@code KVM_IRQFD_FLAG_RESAMPLE}). */
  void assign(KvmIrqfd a) {
    boolean resample = (a.flags() & KVM_IRQFD_FLAG_RESAMPLE) != 0;
    checkEventfd("fd", a.fd());
    if (resample) {
      checkEventfd("resamplefd", a.resamplefd());
    }
    long id = identity(a.fd());
    synchronized (lock) {
      if (closed) {
        throw new KvmException(IOCTL, Errno.EBADF, "the VM is closed");
      }
      for (Irqfd other : irqfds) {
        if (other.eventfdId == id) {
          throw new KvmException(
              IOCTL, Errno.EBUSY, "eventfd " + a.fd() + " is an irqfd of GSI " + other.gsi);
        }
      }
      int fd = dup(a.fd());
      int resampleFd = -1;
      try {
        resampleFd = resample ? dup(a.resamplefd()) : -1;
      } catch (KvmException e) {
        Fds.close(fd);
        throw e;
      }
      Resampler resampler = null;
      if (resample) {
        resampler = resamplers.get(a.gsi());
        if (resampler == null) {
          resampler = new Resampler(a.gsi());
          resamplers.put(a.gsi(), resampler);
          routing.addAckNotifier(a.gsi(), resampler);
        }
      }
      Irqfd irqfd = new Irqfd(nextId++, fd, id, a.gsi(), resampler, resampleFd);
      try {
        // Halted vCPUs first, then the thread: an edge irqfd wakes one of them, a halted vCPU
        // before the thread (EPOLLEXCLUSIVE, in the order attached). A counter already non-zero
        // is reported at once.
        if (resampler == null) {
          for (HaltPoller p : pollers.values()) {
            p.attach(fd, irqfd.id);
          }
        }
        Epoll.add(
            epoll, fd, Epoll.EPOLLIN | (resampler == null ? Epoll.EPOLLEXCLUSIVE : 0), irqfd.id);
      } catch (PosixException e) {
        for (HaltPoller p : pollers.values()) {
          try {
            p.detach(fd);
          } catch (PosixException notThere) {
            // never attached
          }
        }
        Fds.close(fd);
        if (resampleFd >= 0) {
          Fds.close(resampleFd);
        }
        if (resampler != null && resampler.members.isEmpty()) {
          resamplers.remove(a.gsi());
          routing.removeAckNotifier(a.gsi(), resampler);
        }
        throw new KvmException(IOCTL, Errno.ENOMEM, "cannot watch eventfd " + a.fd() + ": " + e);
      }
      if (resampler != null) {
        resampler.members.add(irqfd);
      }
      irqfds.add(irqfd);
      byId.put(irqfd.id, irqfd);
    }
  }

  private static int dup(int fd) {
    try {
      return Fds.dup(fd);
    } catch (PosixException e) {
      throw new KvmException(IOCTL, Errno.EMFILE, "cannot keep a reference to fd " + fd + ": " + e);
    }
  }

  /** Removes every irqfd of this eventfd and GSI (none is fine, as in KVM). */
  void deassign(KvmIrqfd a) {
    checkEventfd("fd", a.fd());
    long id = identity(a.fd());
    synchronized (lock) {
      for (Irqfd irqfd : List.copyOf(irqfds)) {
        if (irqfd.eventfdId == id && irqfd.gsi == a.gsi()) {
          release(irqfd);
        }
      }
    }
    wakeThread();
  }

  /** Deactivates and closes one irqfd (under lock); the last of a resampler lowers its line. */
  private void release(Irqfd irqfd) {
    irqfd.active = false;
    irqfds.remove(irqfd);
    byId.remove(irqfd.id);
    // Detached before the close: the registrations belong to the open eventfd, which the VMM's
    // own fd keeps open.
    if (irqfd.resampler == null) {
      for (HaltPoller p : pollers.values()) {
        detachQuietly(() -> p.detach(irqfd.fd));
      }
    }
    detachQuietly(() -> Epoll.delete(epoll, irqfd.fd));
    Resampler r = irqfd.resampler;
    if (r != null) {
      r.members.remove(irqfd);
      if (r.members.isEmpty()) {
        resamplers.remove(r.gsi);
        routing.removeAckNotifier(r.gsi, r);
        routing.setIrq(IrqRouting.SOURCE_RESAMPLE, r.gsi, false);
      }
      Fds.close(irqfd.resampleFd);
    }
    Fds.close(irqfd.fd);
  }

  /** Makes the thread take a new snapshot; nothing once closed (the control fd may be gone). */
  private void wakeThread() {
    synchronized (lock) {
      if (!closed) {
        signalControl();
      }
    }
  }

  private void signalControl() {
    try {
      Eventfd.signal(control);
    } catch (PosixException e) {
      log.error("cannot wake the irqfd thread", e);
    }
  }

  private static void detachQuietly(Runnable detach) {
    try {
      detach.run();
    } catch (PosixException e) {
      log.warn("cannot detach an irqfd from an epoll list: {}", e.getMessage());
    }
  }

  /** The thread: waits on every irqfd and its control eventfd, injects what is ready. */
  private void loop() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment counter = arena.allocate(24, 8);
      int max = 64;
      MemorySegment events = arena.allocate(Epoll.EVENT_BYTES * max, 8);
      while (true) {
        synchronized (lock) {
          if (closed) {
            return;
          }
        }
        int n = Epoll.await(epoll, events, max, -1);
        for (int i = 0; i < n; i++) {
          long id = Epoll.data(events, i);
          if (id == 0) {
            Eventfd.tryRead(control, counter);
            continue;
          }
          Irqfd irqfd;
          synchronized (lock) {
            irqfd = byId.get(id);
          }
          if (irqfd != null && fire(irqfd, counter)) {
            stats.irqfdInjectionsByThread.increment();
          }
        }
      }
    } catch (RuntimeException | Error e) {
      log.error("BUG: the irqfd thread ended: irqfds of this VM inject nothing more", e);
    }
  }

  /** A halted vCPU's poller saw irqfd {@code id} fire: it injects, as the thread would. */
  void fireHalted(long id, MemorySegment counter) {
    Irqfd irqfd;
    synchronized (lock) {
      irqfd = byId.get(id);
    }
    if (irqfd != null && fire(irqfd, counter)) {
      stats.irqfdInjectionsByHaltedVcpu.increment();
    }
  }

  /** Reads a ready irqfd's counter and injects (KVM's irqfd_wakeup and irqfd_inject). */
  private boolean fire(Irqfd irqfd, MemorySegment counter) {
    synchronized (lock) {
      if (!irqfd.active || closed) {
        return false;
      }
      long count;
      try {
        count = Eventfd.tryRead(irqfd.fd, counter);
      } catch (PosixException e) {
        log.warn("cannot read the irqfd of GSI {}: {}", irqfd.gsi, e.getMessage());
        return false;
      }
      if (count == 0) {
        return false;
      }
      if (irqfd.resampler == null) {
        routing.setIrq(IrqRouting.SOURCE_USERSPACE, irqfd.gsi, true);
        routing.setIrq(IrqRouting.SOURCE_USERSPACE, irqfd.gsi, false);
      } else {
        routing.setIrq(IrqRouting.SOURCE_RESAMPLE, irqfd.gsi, true);
      }
      return true;
    }
  }

  /**
   * Releases every irqfd, ends the thread and closes the control eventfd (the VM is closing, its
   * vCPUs are gone). Idempotent.
   */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      for (Irqfd irqfd : List.copyOf(irqfds)) {
        release(irqfd);
      }
      for (var e : Map.copyOf(pollers).entrySet()) {
        e.getKey().poller(null, null);
        e.getValue().close();
      }
      pollers.clear();
      closed = true;
      signalControl();
    }
    boolean interrupted = false;
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    Fds.close(epoll);
    Fds.close(control);
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
