package dev.toykvm.kernel;

import static dev.toykvm.kvm.KvmConstants.KVM_INTERNAL_ERROR_EMULATION;

import dev.toykvm.ioregionfd.channel.IoregionAccess;
import dev.toykvm.kernel.Requests.Done;
import dev.toykvm.kernel.Requests.Run;
import dev.toykvm.kernel.unicorn.BlockGate;
import dev.toykvm.kernel.unicorn.Uc;
import dev.toykvm.kernel.unicorn.UcCallbacks;
import dev.toykvm.kernel.unicorn.UcEngine;
import dev.toykvm.kernel.x86.CpuState;
import dev.toykvm.kernel.x86.ExceptionDelivery;
import dev.toykvm.kernel.x86.GuestCode;
import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmSregs;
import dev.toykvm.kvm.VcpuExit;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Set;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A vCPU's "kernel context": the Unicorn engine and the thread that runs it.
 *
 * <p>Everything here runs on the engine thread. An access that the VMM must handle is handed to the
 * thread blocked in {@code run()} from inside the Unicorn callback, and the callback waits until
 * the next {@code run()} brings the data back: an access must complete inside its callback, since
 * stopping Unicorn there would re-execute the start of the translation block.
 *
 * <p>This class is the coordinator: the thread, the mailbox, the run loop and the callbacks. Where
 * an access goes is {@link AccessRouter}'s business (with {@link PostedWrites}); writes to
 * read-only slots are undone by {@link ReadOnlyRestores}.
 */
final class VcpuEngine implements UcCallbacks, UntranslatableRecovery.Vcpu, VcpuLink {
  private static final Logger log = LoggerFactory.getLogger(VcpuEngine.class);

  private enum Stop {
    NONE,
    KICK,
    REMAP,
    EXCEPTION,
    INTERRUPT,
    USERSPACE_IRQ,
    FAILURE
  }

  private final int id;
  private final MemorySlots slots;
  private final Mailbox mailbox;
  private final KernelIo io;
  private final VcpuIrq irq; // null without an irqchip
  private final UserspaceIrq userIrq;
  private final VcpuMp mp;
  private final GuestTurn.Hold turn;
  private AccessRouter router;
  private PostedWrites posted;
  private ReadOnlyRestores readOnly;
  private StringIo stringIo;
  private final FarReturnRepair farReturns = new FarReturnRepair(this); // Unicorn's real-mode retf
  private final BlockGate gate = new BlockGate(); // the native block hook (records, calls block())
  private UcEngine uc;
  private CpuState cpu;
  private ExceptionDelivery delivery;

  final GuestCpuid cpuid = new GuestCpuid(); // KVM_SET_CPUID2's table
  private final KickSignal kick = new KickSignal();
  private Stop stop = Stop.NONE;
  private long mappedGeneration = -1;
  private final EngineMemoryMap memoryMap = new EngineMemoryMap();
  private final MmioPieces pieces = new MmioPieces();
  private int pendingVector = -1;
  private boolean pendingSoftware;
  private int pendingErrorCode;
  private long pendingCr2;
  private boolean pageFault; // a #PF was raised in this uc_emu_start (its CR2 in pendingCr2)
  private String failure;
  private boolean inAccess;

  // The memory the thread in run() keeps alive for this run; what the engine has mapped; and what
  // it may still touch while stopped inside an instruction (for the next run()'s checks).
  private volatile Set<MemorySegment.Scope> held = Set.of();
  private List<MemorySlot> mappedSlots = List.of();
  private volatile List<MemorySlot> slotsInUse = List.of();
  // What the VMM supplied for the pending IoIn / MmioRead.
  private volatile long completion;
  private volatile boolean completed;
  private final LongConsumer completer = this::complete;
  private final VcpuStats stats;

  VcpuEngine(
      int id,
      MemorySlots slots,
      KernelIo io,
      Mailbox mailbox,
      VcpuIrq irq,
      UserspaceIrq userIrq,
      GuestTurn.Hold turn,
      VcpuStats stats) {
    this.id = id;
    this.stats = stats;
    this.userIrq = userIrq;
    this.untranslatable = new UntranslatableRecovery(id, this);
    this.irq = irq;
    this.turn = turn;
    turn.onContention(gate::raise); // another vCPU waits for the turn: blocks watch the slice
    this.mp = new VcpuMp(id, irq, new MpCpu(this));
    this.slots = slots;
    this.io = io;
    this.mailbox = mailbox;
  }

  /** Makes the vCPU leave run() with Intr as soon as it can; safe from any thread. */
  void kick() {
    kick.raise();
    gate.raise();
    if (irq != null) {
      irq.wake(); // a halted vCPU waits on the irqchip, not on the eventfd
    }
  }

  /** Look at everything at the next block start: memory changed, an interrupt (any thread). */
  void attention() {
    gate.raise();
  }

  @Override
  public VcpuStats stats() {
    return stats;
  }

  @Override
  public boolean kicked() {
    return kick.raised();
  }

  /** Consumes a kick: clears the flag and empties the kick eventfd. */
  @Override
  public void consumeKick() {
    kick.consume();
  }

  /** The engine thread's body: serve requests until the mailbox closes. */
  void serve() {
    try {
      while (true) {
        Object request = mailbox.take();
        if (request == Mailbox.CLOSED) {
          return;
        }
        mailbox.reply(VcpuRequests.handle(this, request));
      }
    } finally {
      mailbox.close(); // a caller never waits for an engine thread that has ended
      if (uc != null) {
        uc.close();
      }
      if (router != null) {
        router.close();
      }
      if (posted != null) {
        posted.close();
      }
      kick.close();
    }
  }

  /** {@code KVM_RUN}: runs the guest until an exit for the VMM (engine thread). */
  VcpuExit run(Set<MemorySegment.Scope> held) {
    this.held = held;
    VcpuExit exit = runGuest();
    reportInterruptState();
    return exit;
  }

  /** {@code KVM_INTERRUPT}: queued; the next block looks (also during an exit in a callback). */
  void queueInterrupt(int vector) {
    userIrq.queue(vector);
    gate.raise();
  }

  /** Whether an MMIO/PIO exit waits for the run() that completes it. */
  boolean inAccess() {
    return inAccess;
  }

  VcpuIrq irq() {
    return irq;
  }

  VcpuMp mp() {
    return mp;
  }

  int id() {
    return id;
  }

  Object init() {
    try {
      uc = new UcEngine(this);
    } catch (RuntimeException e) {
      throw new KvmException(
          "KVM_CREATE_VCPU", Errno.ENOMEM, "cannot open a Unicorn engine for vcpu" + id + ": " + e);
    }
    cpu = new CpuState(uc);
    delivery = new ExceptionDelivery(this);
    long timeout = KernelParams.ioregionTimeoutNanos();
    StringIo.Guest guest = StringIo.guest(this, () -> uc, slots);
    posted = PostedWrites.of(id, kick.fd(), timeout, this, guest);
    router = new AccessRouter(id, io, new IoregionAccess(kick.fd(), timeout), posted, this);
    readOnly = new ReadOnlyRestores(slots.rawMemory(), ReadOnlyRestores.Engine.of(() -> uc));
    stringIo = new StringIo(guest, router, this);
    uc.installCoreHooks(gate, KernelParams.blockGate());
    setSregs(ResetState.sregs());
    setRegs(ResetState.regs());
    syncMemory();
    KvmException fault = failInitForTests;
    if (fault != null) {
      throw fault;
    }
    return new Done();
  }

  /** Tests only: every vCPU creation fails with it once its engine, thread and fds exist. */
  static volatile KvmException failInitForTests;

  private VcpuExit runGuest() {
    while (true) {
      VcpuExit waited = mp.untilRunnable();
      if (waited != null) {
        return waited;
      }
      if (kick.raised()) {
        consumeKick();
        return new VcpuExit.Intr();
      }
      if (slots.generation() != mappedGeneration) {
        syncMemory();
        if (!isHeld(mappedSlots)) {
          // Memory registered during this run() is not kept alive by its caller: as after a
          // signal, the VMM runs again, and that run() checks and holds the new memory.
          return new VcpuExit.Intr();
        }
      }
      stop = Stop.NONE;
      pieces.reset();
      long until = untranslatable.stopAt();
      long cr2 = cpu.cr2();
      pageFault = false;
      int err;
      gate.raise(); // the first block looks at everything
      turn.take();
      try {
        err = uc.start(uc.readReg(Uc.X86_REG_RIP), until);
      } finally {
        turn.release();
      }
      if (err != UcEngine.ABORTED) {
        cpu.repairCr2(cr2, until, pageFault, pendingCr2);
      }
      if (err == UcEngine.ABORTED) {
        VcpuExit exit = untranslatable.afterAbort();
        if (exit != null) {
          return exit;
        }
      }
      if (!readOnly.isEmpty()) {
        readOnly.restoreAll();
      }
      posted.flush();
      switch (stop) {
        case KICK -> {
          consumeKick();
          return new VcpuExit.Intr();
        }
        case REMAP -> {
          continue;
        }
        case FAILURE -> {
          return new VcpuExit.InternalError(KVM_INTERNAL_ERROR_EMULATION, failure);
        }
        case EXCEPTION -> {
          cpu.endException(); // else QEMU makes the guest's next #PF a double or triple fault
          VcpuExit exit =
              outcome(delivery.deliver(pendingVector, pendingSoftware, pendingErrorCode));
          if (exit != null) {
            return exit;
          }
          continue;
        }
        case USERSPACE_IRQ -> {
          VcpuExit exit =
              userIrq.windowOpen()
                  ? new VcpuExit.IrqWindowOpen()
                  : outcome(delivery.deliverExternal(userIrq.take()));
          if (exit != null) {
            return exit;
          }
          continue;
        }
        case INTERRUPT -> {
          VcpuExit exit = mp.take();
          if (exit != null) {
            return exit;
          }
          continue;
        }
        case NONE -> {}
      }
      if (mailbox.isClosed()) {
        return new VcpuExit.InternalError(KVM_INTERNAL_ERROR_EMULATION, "vCPU closed");
      }
      switch (err) {
        case UcEngine.ABORTED -> {
          continue;
        }
        case Uc.ERR_OK -> {
          if (untranslatable.searching()) {
            VcpuExit exit = untranslatable.afterStop();
            if (exit == UntranslatableRecovery.CONTINUE) {
              continue;
            }
            if (exit != null) {
              return exit;
            }
          }
          if (!GuestCode.hltBefore(this, cpu.read(), rip())) {
            return DeliveryExits.unexplainedStop(rip()); // never a hlt that was not one
          }
          if (irq != null) {
            VcpuExit exit = mp.hlt(interruptsEnabled());
            if (exit != null) {
              return exit;
            }
            continue;
          }
          return new VcpuExit.Hlt();
        }
        case Uc.ERR_INSN_INVALID -> {
          VcpuExit exit = outcome(delivery.deliver(ExceptionDelivery.UD, false));
          if (exit != null) {
            return exit;
          }
        }
        default -> {
          return DeliveryExits.emulatorError(rip(), err);
        }
      }
    }
  }

  private final UntranslatableRecovery untranslatable; // code the translator cannot take

  @Override
  public long rip() {
    return uc.readReg(Uc.X86_REG_RIP);
  }

  @Override
  public VcpuExit raiseInvalidOpcode() {
    return outcome(delivery.deliver(ExceptionDelivery.UD, false));
  }

  @Override
  public void removeTranslations(long begin, long end) {
    uc.removeTranslations(begin, end);
  }

  /** Replaces an aborted engine with a new one in the CPU state the old one was left in. */
  @Override
  public void replaceEngine() {
    UcEngine dead = uc;
    MemorySegment state = dead.allocContext();
    dead.saveContext(state);
    UcEngine fresh = new UcEngine(this);
    MemorySegment copy = fresh.allocContext();
    copy.copyFrom(state);
    fresh.installCoreHooks(gate, KernelParams.blockGate());
    uc = fresh;
    cpu = new CpuState(fresh);
    memoryMap.forget();
    syncMemory();
    fresh.restoreContext(copy);
    dead.close();
  }

  /** The vCPU is closing: a wait must end. */
  boolean closing() {
    return mailbox.isClosed();
  }

  CpuState cpuState() {
    return cpu;
  }

  VcpuExit deliverExternal(int vector) {
    return outcome(delivery.deliverExternal(vector));
  }

  private static final long RFLAGS_IF = 1L << 9;

  private VcpuExit outcome(ExceptionDelivery.Outcome outcome) {
    return DeliveryExits.of(id, delivery, outcome);
  }

  /** Hands an exit to the VMM from inside a callback; returns once the next run() arrives. */
  @Override
  public long exitToVmm(VcpuExit exit) {
    completed = false;
    inAccess = true;
    slotsInUse = mappedSlots;
    boolean hadTurn = turn.release(); // other vCPUs run while the VMM handles the exit
    try {
      reportInterruptState();
      mailbox.reply(exit);
      while (true) {
        Object request = mailbox.take();
        if (request == Mailbox.CLOSED) {
          throw new IllegalStateException("vCPU closed while an access was pending");
        }
        if (request instanceof Run r) {
          held = r.held();
          return completed ? completion : -1L;
        }
        mailbox.reply(VcpuRequests.handle(this, request));
        gate.raise(); // a request during the exit (regs, LAPIC, MP state...): the next block looks
      }
    } finally {
      inAccess = false;
      slotsInUse = List.of();
      if (hadTurn) {
        turn.take();
      }
    }
  }

  @Override
  public LongConsumer completion() {
    return completer;
  }

  private void complete(long value) {
    completion = value;
    completed = true;
  }

  /** Maps the VM's slots as they are now (see {@link EngineMemoryMap}). */
  private void syncMemory() {
    long generation = slots.generation();
    List<MemorySlot> now = slots.snapshot();
    memoryMap.sync(uc, now);
    mappedSlots = now;
    mappedGeneration = generation;
  }

  /** Whether the caller of this run() keeps all of {@code mapped} alive. */
  private boolean isHeld(List<MemorySlot> mapped) {
    for (MemorySlot slot : mapped) {
      if (!held.contains(slot.owner().scope())) {
        return false;
      }
    }
    return true;
  }

  /**
   * The slots the engine may touch before it remaps: those it has mapped while it is stopped inside
   * an instruction (in an exit to the VMM), none otherwise (a run starts by remapping).
   */
  List<MemorySlot> slotsInUse() {
    return slotsInUse;
  }

  // ---- callbacks (engine thread, inside uc_emu_start) --------------------------------------

  @Override
  public void mmioAccess(boolean write, long address, int size, long value) {
    pieces.announced(write, address, size, value, mmio);
  }

  @Override
  public long mmioRead(long address, int size) {
    return pieces.read(address, size, mmio);
  }

  @Override
  public void mmioWrite(long address, int size, long value) {
    pieces.write(address, size, value, mmio);
  }

  private final MmioPieces.Access mmio =
      (write, a, size, data) -> access(false, write, a, size, data);

  @Override
  public int ioIn(int port, int size) {
    int p = port & 0xffff;
    if (irq != null && irq.claims(true, p)) {
      return (int) irq.access(true, false, p, size, 0);
    }
    return (int) turn.without(() -> routeIn(p, size));
  }

  private int routeIn(int p, int size) {
    if (!router.kernelClaims(true, false, p, size, 0)) {
      // Bound for the VMM: a rep ins is one exit for a whole batch (see StringIo).
      Long batch = stringIo.in(p, size, gate.blockAddress(), gate.blockSize());
      return (int) mask(batch != null ? batch : router.exitToVmm(true, false, p, size, 0), size);
    }
    return (int) mask(access(true, false, p, size, 0), size);
  }

  @Override
  public void ioOut(int port, int size, int value) {
    int p = port & 0xffff;
    long data = mask(value & 0xffff_ffffL, size);
    if (irq != null && irq.claims(true, p)) {
      irq.access(true, true, p, size, data);
      return;
    }
    turn.without(() -> routeOut(p, size, data));
  }

  private long routeOut(int p, int size, long data) {
    if (!router.kernelClaims(true, true, p, size, data)) {
      // Bound for the VMM: a rep outs is one exit for a whole batch (see StringIo).
      if (!stringIo.out(p, size, data, gate.blockAddress(), gate.blockSize())) {
        router.exitToVmm(true, true, p, size, data);
      }
      return 0;
    }
    return access(true, true, p, size, data);
  }

  private long access(boolean pio, boolean write, long address, int size, long data) {
    if (irq != null && !pio && irq.claims(false, address)) {
      return irq.access(false, write, address, size, data);
    }
    long value = turn.without(() -> router.access(pio, write, address, size, data));
    gate.raise(); // if a posted write waits, blocks watch its deadline
    return value;
  }

  @Override
  public void interrupt(int vector) {
    pendingVector = vector;
    pendingSoftware =
        GuestCode.isSoftwareInterrupt(this, cpu.read(), uc.readReg(Uc.X86_REG_RIP), vector);
    pendingErrorCode = pendingSoftware ? 0 : cpu.errorCode();
    if (vector == ExceptionDelivery.PF && !pendingSoftware) {
      pageFault = true;
      pendingCr2 = cpu.cr2();
    }
    stop = Stop.EXCEPTION;
    uc.stop();
  }

  /** A write to a read-only slot: one {@code KVM_EXIT_MMIO}; see {@link ReadOnlyRestores}. */
  @Override
  public void readOnlyWrite(long address, int size, long value) {
    long v = mask(value, size);
    readOnly.atBlock(gate.blockAddress(), gate.blockSize());
    if (readOnly.isNewWrite(address, size, v)) {
      posted.flush();
      exitToVmm(new VcpuExit.MmioWrite(address, size, v));
    }
    readOnly.willLand(address, size);
    gate.raise(); // blocks undo the write
  }

  @Override
  public void hookedRead(long address, int size) {
    readOnly.restoreAll();
  }

  @Override
  public long farReturn(long prevAddress, int prevSize) {
    return farReturns.check(prevAddress, prevSize);
  }

  @Override
  public boolean repairFarReturn() {
    return uc.repairFarReturnAfterAbort();
  }

  @Override
  public void block(long address, int size) {
    gate.clear();
    if (readOnly.blockStarts(address, size)) {
      // Translated from bytes written to read-only memory: translate it again before it runs.
      stop = kick.raised() ? Stop.KICK : Stop.REMAP;
      uc.stop();
      return;
    }
    long now = System.nanoTime();
    boolean postedWatch = posted.atBlock(now, address, size);
    turn.yieldIfDue(now);
    if (kick.raised()) {
      stop = Stop.KICK;
      uc.stop();
    } else if (irq != null && irq.needsCheck(now) && mp.mustStop(this::canTakeInterrupt)) {
      stop = Stop.INTERRUPT;
      uc.stop();
    } else if (irq == null && userIrq.wantsLook() && userIrq.stopsAt(canTakeInterrupt())) {
      stop = Stop.USERSPACE_IRQ;
      uc.stop();
    } else if (slots.generation() != mappedGeneration) {
      stop = Stop.REMAP;
      uc.stop();
    }
    if (postedWatch
        || readOnly.watching()
        || (irq != null && irq.watching())
        || (irq == null && userIrq.wantsLook())
        || turn.contended()) {
      gate.raise();
    }
  }

  /** RFLAGS.IF=1 and no STI/MOV SS shadow: an external interrupt may be taken here. */
  private boolean canTakeInterrupt() {
    return interruptsEnabled() && !cpu.interruptShadow();
  }

  private boolean interruptsEnabled() {
    return (uc.readReg(Uc.X86_REG_RFLAGS) & RFLAGS_IF) != 0;
  }

  /** {@code kvm_run}'s if_flag and ready_for_interrupt_injection, at each exit. */
  private void reportInterruptState() {
    userIrq.report(uc.readReg(Uc.X86_REG_RFLAGS), cpu::interruptShadow, irq != null);
  }

  @Override
  public boolean unmapped(int type, long address, int size, long value) {
    if (type != Uc.MEM_FETCH_UNMAPPED) {
      failure = DeliveryExits.beyondPhysicalSpace(type == Uc.MEM_WRITE_UNMAPPED, address, size);
      stop = Stop.FAILURE;
      uc.stop();
    }
    return false;
  }

  @Override
  public boolean cpuid() {
    return cpuid.answer(uc);
  }

  @Override
  public void upcallFailed(Throwable t) {
    failure = "internal error in the kernel side: " + t;
    stop = Stop.FAILURE;
    if (!(t instanceof IllegalStateException && mailbox.isClosed())) {
      log.warn("vcpu{}: {}", id, failure, t);
    }
  }

  private static long mask(long value, int size) {
    return size >= 8 ? value : value & ((1L << (8 * size)) - 1);
  }

  // ---- GuestCpu (for exception delivery) and register requests ----------------------------

  @Override
  public KvmRegs regs() {
    return cpu.regs();
  }

  @Override
  public void setRegs(KvmRegs regs) {
    cpu.setRegs(regs);
  }

  @Override
  public KvmSregs sregs() {
    return cpu.read();
  }

  @Override
  public void setSregs(KvmSregs sregs) {
    cpu.write(dev.toykvm.kernel.x86.SregsValidator.checked(sregs));
  }

  @Override
  public byte[] readPhysical(long address, int length) {
    if (readOnly != null && !readOnly.isEmpty()) {
      readOnly.restoreAll(); // the kernel side reads memory as the guest would
    }
    return slots.read(address, length);
  }

  @Override
  public boolean writePhysical(long address, byte[] bytes) {
    return slots.write(address, bytes, false);
  }
}
