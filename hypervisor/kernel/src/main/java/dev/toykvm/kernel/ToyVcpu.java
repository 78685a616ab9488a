package dev.toykvm.kernel;

import dev.toykvm.kernel.Requests.Failed;
import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmSregs;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A vCPU fd: forwards each ioctl to the vCPU's engine thread and waits for its answer.
 *
 * <p>Resources: the engine thread, the engine's kick eventfd and Unicorn engine (released by the
 * engine thread as it ends), and the mailbox's eventfd (released here once the engine thread has
 * ended and no caller is inside an ioctl). A failed creation releases all of them before it throws.
 */
final class ToyVcpu implements VcpuFd {
  private static final Logger log = LoggerFactory.getLogger(ToyVcpu.class);

  /** How long close() waits for the engine thread and for a caller to leave. */
  private static final long CLOSE_WAIT_MS = 5_000;

  private final int id;
  private final ToyVm vm;
  private final MemorySlots slots;
  private final Mailbox mailbox;
  private final VcpuEngine engine;
  private final Thread thread;
  private final VcpuIrq irq; // null without an irqchip
  private final UserspaceIrq userIrq = new UserspaceIrq();
  // Held by the thread inside an ioctl: a second caller gets EBUSY, close() waits for it.
  private final ReentrantLock inCall = new ReentrantLock();
  private volatile boolean closed;

  /**
   * Creates the vCPU and its engine thread, and puts it in the reset state.
   *
   * @throws KvmException {@code EMFILE} if the process is out of fds, {@code ENOMEM} if the engine
   *     cannot be made otherwise (threads, native memory), with nothing left behind
   */
  /** EMFILE for a process out of file descriptors (as KVM's anon_inode_getfd), else ENOMEM. */
  private static Errno outOf(RuntimeException e) {
    return e instanceof dev.toykvm.posix.PosixException p && p.errno() == EMFILE_NUMBER
        ? Errno.EMFILE
        : Errno.ENOMEM;
  }

  private static final int EMFILE_NUMBER = 24;

  private final VcpuStats stats = new VcpuStats();

  ToyVcpu(ToyVm vm, int id, MemorySlots slots, KernelIo io, VcpuIrq irq, GuestTurn.Hold turn) {
    this.vm = vm;
    this.id = id;
    this.slots = slots;
    this.irq = irq;
    try {
      this.mailbox = new Mailbox();
    } catch (RuntimeException e) {
      throw new KvmException("KVM_CREATE_VCPU", outOf(e), "cannot make vcpu" + id + ": " + e);
    }
    try {
      this.engine = new VcpuEngine(id, slots, io, mailbox, irq, userIrq, turn, stats);
      if (irq != null) {
        irq.onAttention(engine::attention); // an interrupt may be possible: look at the next block
      }
    } catch (RuntimeException e) {
      mailbox.release();
      throw new KvmException("KVM_CREATE_VCPU", outOf(e), "cannot make vcpu" + id + ": " + e);
    }
    Thread t;
    try {
      t = Thread.ofPlatform().daemon().name("vcpu" + id + "-engine").unstarted(engine::serve);
      mailbox.bindServer(t);
      t.start();
    } catch (RuntimeException | OutOfMemoryError e) {
      // No engine thread: serve() on a closed mailbox returns at once and frees what the engine
      // holds (its kick eventfd), here on this thread.
      mailbox.close();
      engine.serve();
      mailbox.release();
      throw new KvmException(
          "KVM_CREATE_VCPU",
          Errno.ENOMEM,
          "cannot start the engine thread of vcpu" + id + ": " + e);
    }
    this.thread = t;
    Object reply = mailbox.call(new Requests.Init());
    if (reply instanceof Failed f) {
      shutDown();
      throw f.exception();
    }
    if (reply == Mailbox.CLOSED) {
      shutDown();
      throw new KvmException("KVM_CREATE_VCPU", Errno.ENOMEM, "vcpu" + id + " ended at creation");
    }
  }

  @Override
  public int id() {
    return id;
  }

  /**
   * {@inheritDoc}
   *
   * <p>The guest's memory is checked first and held for the whole call: see {@link #memoryToHold}.
   */
  @Override
  public VcpuExit run() {
    VcpuExit exit = (VcpuExit) call("KVM_RUN", null);
    stats.exit(exit);
    return exit;
  }

  @Override
  public java.util.List<dev.toykvm.kvm.KvmStat> getStats() {
    return stats.snapshot();
  }

  @Override
  public KvmRegs getRegs() {
    return (KvmRegs) call("KVM_GET_REGS", new Requests.GetRegs());
  }

  @Override
  public void setRegs(KvmRegs regs) {
    if (regs == null) {
      throw new KvmException("KVM_SET_REGS", Errno.EFAULT, "regs is null");
    }
    call("KVM_SET_REGS", new Requests.SetRegs(regs));
  }

  @Override
  public KvmSregs getSregs() {
    return (KvmSregs) call("KVM_GET_SREGS", new Requests.GetSregs());
  }

  @Override
  public void setSregs(KvmSregs sregs) {
    if (sregs == null) {
      throw new KvmException("KVM_SET_SREGS", Errno.EFAULT, "sregs is null");
    }
    String why = dev.toykvm.kernel.x86.SregsValidator.whyInvalid(sregs);
    if (why != null) {
      throw new KvmException("KVM_SET_SREGS", Errno.EINVAL, why);
    }
    call("KVM_SET_SREGS", new Requests.SetSregs(sregs));
  }

  @Override
  public void setCpuid2(java.util.List<dev.toykvm.kvm.KvmCpuidEntry2> entries) {
    call("KVM_SET_CPUID2", new Requests.SetCpuid(GuestCpuid.checked(entries)));
  }

  @Override
  public byte[] getLapic() {
    needIrqchip("KVM_GET_LAPIC");
    return (byte[]) call("KVM_GET_LAPIC", new Requests.GetLapic());
  }

  @Override
  public void setLapic(byte[] state) {
    needIrqchip("KVM_SET_LAPIC");
    if (state == null) {
      throw new KvmException("KVM_SET_LAPIC", Errno.EFAULT, "state is null");
    }
    if (state.length != KvmConstants.KVM_APIC_REG_SIZE) {
      throw new KvmException(
          "KVM_SET_LAPIC", Errno.EINVAL, "the state is " + state.length + " bytes, not 1024");
    }
    call("KVM_SET_LAPIC", new Requests.SetLapic(state.clone()));
  }

  @Override
  public int getMpState() {
    return (Integer) call("KVM_GET_MP_STATE", new Requests.GetMpState());
  }

  @Override
  public void setMpState(int mpState) {
    checkOpen("KVM_SET_MP_STATE");
    boolean ok =
        mpState == KvmConstants.KVM_MP_STATE_RUNNABLE
            || (irq != null
                && (mpState == KvmConstants.KVM_MP_STATE_HALTED
                    || mpState == KvmConstants.KVM_MP_STATE_UNINITIALIZED
                    || mpState == KvmConstants.KVM_MP_STATE_INIT_RECEIVED));
    if (!ok) {
      throw new KvmException(
          "KVM_SET_MP_STATE",
          Errno.EINVAL,
          "mp_state "
              + mpState
              + (irq == null
                  ? ": only KVM_MP_STATE_RUNNABLE without an irqchip"
                  : ": KVM_MP_STATE_SIPI_RECEIVED and unknown states are not supported"));
    }
    call("KVM_SET_MP_STATE", new Requests.SetMpState(mpState));
  }

  @Override
  public void interrupt(int vector) {
    checkOpen("KVM_INTERRUPT");
    if (vector < 0 || vector > 255) {
      throw new KvmException("KVM_INTERRUPT", Errno.EINVAL, "vector " + vector + " is not 0-255");
    }
    if (irq != null) {
      throw new KvmException(
          "KVM_INTERRUPT",
          Errno.ENXIO,
          "the VM has an in-kernel irqchip: raise the line with KVM_IRQ_LINE instead");
    }
    call("KVM_INTERRUPT", new Requests.Interrupt(vector));
  }

  @Override
  public void setRequestInterruptWindow(boolean request) {
    userIrq.requestWindow(request);
    engine.attention(); // the next block start looks, also when run() resumes inside a callback
  }

  @Override
  public boolean readyForInterruptInjection() {
    return userIrq.ready();
  }

  @Override
  public boolean ifFlag() {
    return userIrq.ifFlag();
  }

  private void needIrqchip(String ioctl) {
    checkOpen(ioctl);
    if (irq == null) {
      throw new KvmException(ioctl, Errno.ENXIO, "the VM has no irqchip (KVM_CREATE_IRQCHIP)");
    }
  }

  @Override
  public void kick() {
    engine.kick();
  }

  /** The VM's memory slots changed (any thread): the engine remaps at its next block start. */
  void memoryChanged() {
    engine.attention();
  }

  /** One ioctl; {@code request} null means {@code KVM_RUN}, which first checks guest memory. */
  private Object call(String ioctl, Requests.Request request) {
    checkOpen(ioctl);
    if (!inCall.tryLock()) {
      throw new KvmException(ioctl, Errno.EBUSY, "another thread is using vcpu" + id);
    }
    try {
      // Checked again under the lock: close() takes it before releasing the mailbox.
      checkOpen(ioctl);
      MemorySegment[] hold = new MemorySegment[0];
      if (request == null) {
        List<MemorySegment> segments = memoryToHold();
        hold = segments.toArray(hold);
        Set<MemorySegment.Scope> scopes = new HashSet<>();
        for (MemorySegment s : segments) {
          scopes.add(s.scope());
        }
        request = new Requests.Run(scopes);
      }
      Object reply = mailbox.call(request, hold);
      if (reply == Mailbox.CLOSED) {
        throw new KvmException(ioctl, Errno.EBADF, "vcpu" + id + " was closed");
      }
      if (reply instanceof Failed f) {
        throw f.exception();
      }
      return reply;
    } catch (KvmException e) {
      throw e;
    } catch (RuntimeException e) {
      throw KernelBug.report(ioctl, e);
    } finally {
      inCall.unlock();
    }
  }

  private void checkOpen(String ioctl) {
    if (closed || vm.isClosed()) {
      throw new KvmException(ioctl, Errno.EBADF, "vcpu" + id + " is closed");
    }
  }

  /**
   * The guest memory a {@code KVM_RUN} from this thread may touch, one segment per arena: the VM's
   * slots, and the slots the engine still has mapped if it is stopped inside an instruction (the
   * rest of which runs on the old mapping). {@code EFAULT}, as KVM faults on a bad {@code
   * userspace_addr}, if any of it is freed or belongs to a confined arena of another thread.
   */
  private List<MemorySegment> memoryToHold() {
    List<MemorySlot> all = new ArrayList<>(slots.snapshot());
    all.addAll(engine.slotsInUse());
    Thread caller = Thread.currentThread();
    Set<MemorySegment.Scope> seen = new HashSet<>();
    List<MemorySegment> hold = new ArrayList<>();
    for (MemorySlot slot : all) {
      if (!slot.alive()) {
        throw new KvmException(
            "KVM_RUN",
            Errno.EFAULT,
            String.format(
                "the memory of slot %d (guest-physical 0x%x) was freed while registered: its"
                    + " arena is closed",
                slot.id(), slot.guestPhysAddr()));
      }
      if (!slot.owner().isAccessibleBy(caller)) {
        throw new KvmException(
            "KVM_RUN",
            Errno.EFAULT,
            String.format(
                "the memory of slot %d (guest-physical 0x%x) is confined to another thread: call"
                    + " run() from the thread that owns its arena, or use Arena.ofShared(),"
                    + " Arena.ofAuto() or Arena.global()",
                slot.id(), slot.guestPhysAddr()));
      }
      if (seen.add(slot.owner().scope())) {
        hold.add(slot.owner());
      }
    }
    return hold;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    shutDown();
    vm.forget(this);
    if (irq != null) {
      irq.chip().detach(id);
    }
  }

  /**
   * Ends the engine thread (which frees its engine and kick eventfd), then frees the mailbox once
   * no caller is inside an ioctl. If either does not happen in time, the resources are left rather
   * than freed under a thread that may still use them, and that is logged.
   */
  private void shutDown() {
    closed = true;
    mailbox.close(); // first: a run() in progress now fails with EBADF, whatever the engine does
    engine.kick(); // wakes an engine waiting for a device, so it sees the close at once
    boolean locked = false;
    try {
      thread.join(CLOSE_WAIT_MS);
      locked = inCall.tryLock(CLOSE_WAIT_MS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (locked && !thread.isAlive()) {
      mailbox.release();
    } else {
      log.warn(
          "vcpu{}: {} did not end within {} ms; its resources are left to it",
          id,
          thread.isAlive() ? "the engine thread" : "a caller",
          CLOSE_WAIT_MS);
    }
    // Never unlocked: every later caller sees `closed` first.
  }
}
