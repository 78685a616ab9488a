package dev.toykvm.kernel;

import static dev.toykvm.kvm.KvmConstants.KVM_IRQFD_FLAG_RESAMPLE;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmIrqfd;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Poll;
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
  private final Object lock = new Object();
  private final List<Irqfd> irqfds = new ArrayList<>(); // under lock
  private final Map<Integer, Resampler> resamplers = new HashMap<>(); // under lock, by GSI
  private final int control;
  private final Thread thread;
  private boolean closed; // under lock

  /** One assigned irqfd: the kernel side's duplicates of the VMM's eventfds. */
  private static final class Irqfd {
    final int fd;
    final long eventfdId;
    final int gsi;
    final Resampler resampler; // null for an edge irqfd
    final int resampleFd; // -1 for an edge irqfd
    boolean active = true; // under lock

    Irqfd(int fd, long eventfdId, int gsi, Resampler resampler, int resampleFd) {
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

  private Irqfds(IrqRouting routing, int control) {
    this.routing = routing;
    this.control = control;
    this.thread =
        Thread.ofPlatform()
            .daemon()
            .name("vm" + VMS.incrementAndGet() + "-irqfd")
            .unstarted(this::loop);
  }

  /**
   * Makes a VM's irqfd machinery and starts its thread.
   *
   * @throws KvmException {@code EMFILE} without an fd for the control eventfd, {@code ENOMEM} if
   *     the thread cannot be started (nothing is kept)
   */
  static Irqfds start(IrqRouting routing) {
    int control;
    try {
      control = Eventfd.create();
    } catch (PosixException e) {
      throw new KvmException(IOCTL, Errno.EMFILE, "cannot make the irqfd thread's eventfd: " + e);
    }
    try {
      Irqfds irqfds = new Irqfds(routing, control);
      irqfds.thread.start();
      return irqfds;
    } catch (RuntimeException | OutOfMemoryError e) {
      Fds.close(control);
      throw new KvmException(IOCTL, Errno.ENOMEM, "cannot start the irqfd thread: " + e);
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
      Irqfd irqfd = new Irqfd(fd, id, a.gsi(), resampler, resampleFd);
      if (resampler != null) {
        resampler.members.add(irqfd);
      }
      irqfds.add(irqfd);
    }
    wakeThread(); // it polls the new fd, and injects at once if the counter is already non-zero
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

  /** The thread: waits on every irqfd and its control eventfd, injects what is ready. */
  private void loop() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment counter = arena.allocate(24, 8);
      int capacity = 16;
      MemorySegment pollfds = arena.allocate(Poll.POLLFD_BYTES * capacity, 8);
      while (true) {
        Irqfd[] watched;
        synchronized (lock) {
          if (closed) {
            return;
          }
          watched = irqfds.toArray(new Irqfd[0]);
        }
        if (watched.length + 1 > capacity) {
          capacity = Math.max(capacity * 2, watched.length + 1);
          pollfds = arena.allocate(Poll.POLLFD_BYTES * capacity, 8);
        }
        Poll.setPollfd(pollfds, 0, control, Poll.POLLIN);
        for (int i = 0; i < watched.length; i++) {
          Poll.setPollfd(pollfds, i + 1, watched[i].fd, Poll.POLLIN);
        }
        Poll.poll(pollfds, watched.length + 1, -1);
        if (Poll.revents(pollfds, 0) != 0) {
          Eventfd.tryRead(control, counter);
        }
        for (int i = 0; i < watched.length; i++) {
          if ((Poll.revents(pollfds, i + 1) & Poll.POLLIN) != 0) {
            fire(watched[i], counter);
          }
        }
      }
    } catch (RuntimeException | Error e) {
      log.error("BUG: the irqfd thread ended: irqfds of this VM inject nothing more", e);
    }
  }

  /** Reads a ready irqfd's counter and injects (KVM's irqfd_wakeup and irqfd_inject). */
  private void fire(Irqfd irqfd, MemorySegment counter) {
    synchronized (lock) {
      if (!irqfd.active || closed) {
        return;
      }
      long count;
      try {
        count = Eventfd.tryRead(irqfd.fd, counter);
      } catch (PosixException e) {
        log.warn("cannot read the irqfd of GSI {}: {}", irqfd.gsi, e.getMessage());
        return;
      }
      if (count == 0) {
        return;
      }
      if (irqfd.resampler == null) {
        routing.setIrq(IrqRouting.SOURCE_USERSPACE, irqfd.gsi, true);
        routing.setIrq(IrqRouting.SOURCE_USERSPACE, irqfd.gsi, false);
      } else {
        routing.setIrq(IrqRouting.SOURCE_RESAMPLE, irqfd.gsi, true);
      }
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
      closed = true;
      for (Irqfd irqfd : List.copyOf(irqfds)) {
        release(irqfd);
      }
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
    Fds.close(control);
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
