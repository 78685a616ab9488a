package dev.toykvm.kernel;

import static dev.toykvm.kvm.KvmConstants.KVM_INTERNAL_ERROR_DELIVERY_EV;
import static dev.toykvm.kvm.KvmConstants.KVM_INTERNAL_ERROR_EMULATION;

import dev.toykvm.ioregionfd.channel.IoregionAccess;
import dev.toykvm.ioregionfd.channel.PostedBatch;
import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.kernel.Requests.Done;
import dev.toykvm.kernel.Requests.Failed;
import dev.toykvm.kernel.Requests.GetRegs;
import dev.toykvm.kernel.Requests.GetSregs;
import dev.toykvm.kernel.Requests.Init;
import dev.toykvm.kernel.Requests.Run;
import dev.toykvm.kernel.Requests.SetRegs;
import dev.toykvm.kernel.Requests.SetSregs;
import dev.toykvm.kernel.unicorn.Uc;
import dev.toykvm.kernel.unicorn.UcCallbacks;
import dev.toykvm.kernel.unicorn.UcEngine;
import dev.toykvm.kernel.x86.CpuState;
import dev.toykvm.kernel.x86.ExceptionDelivery;
import dev.toykvm.kernel.x86.GuestCpu;
import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmSregs;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.posix.Posix;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A vCPU's "kernel context": the Unicorn engine and the thread that runs it.
 *
 * <p>Everything here runs on the engine thread. An access that the VMM must handle is handed to the
 * thread blocked in {@code run()} from inside the Unicorn callback, and the callback waits until
 * the next {@code run()} brings the data back: an access must complete inside its callback, since
 * stopping Unicorn there would re-execute the start of the translation block.
 */
final class VcpuEngine implements UcCallbacks, GuestCpu {
  private static final Logger log = LoggerFactory.getLogger(VcpuEngine.class);

  /**
   * The kernel side's tracepoints (like {@code kvm:kvm_mmio}): accesses that the kernel side
   * completes itself, which the VMM never sees as exits. Enabled at TRACE level.
   */
  private static final Logger trace = LoggerFactory.getLogger("toykvm.trace");

  /** {@code uc_emu_start}'s end address: one no guest can reach (non-canonical). */
  private static final long NO_END = -1L;

  private enum Stop {
    NONE,
    KICK,
    REMAP,
    EXCEPTION,
    FAILURE
  }

  private final int id;
  private final MemorySlots slots;
  private final Mailbox mailbox;
  private final KernelIo io;
  private final int kickFd;
  private IoregionAccess access;
  private PostedBatch posted;
  // The last posted write added to the batch, to name it if the batch cannot be sent.
  private KernelIoBus.Region postedRegion;
  private boolean postedPio;
  private long postedAddress;
  private int postedSize;
  private long postedData;
  private UcEngine uc;
  private CpuState cpu;
  private ExceptionDelivery delivery;

  volatile boolean kick;
  private final java.util.function.BooleanSupplier kicked = () -> kick;
  private Stop stop = Stop.NONE;
  private long mappedGeneration = -1;
  private final EngineMemoryMap memoryMap = new EngineMemoryMap();
  private final MmioPieces pieces = new MmioPieces();
  private int pendingVector = -1;
  private boolean pendingSoftware;
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

  VcpuEngine(int id, MemorySlots slots, KernelIo io, Mailbox mailbox) {
    this.id = id;
    this.slots = slots;
    this.io = io;
    this.mailbox = mailbox;
    this.kickFd = Posix.eventfd();
  }

  /**
   * How long one wait of an ioregion access may last before the device is declared stalled: the
   * system property {@code toykvm.ioregionfd.timeout.ms} (a kernel "module parameter", read when a
   * vCPU is created), 5000 ms by default.
   */
  static long ioregionTimeoutNanos() {
    long ms = Long.getLong(TIMEOUT_PROPERTY, 5000);
    return Math.max(1, ms) * 1_000_000L;
  }

  /** The name of the ioregion timeout "module parameter". */
  static final String TIMEOUT_PROPERTY = "toykvm.ioregionfd.timeout.ms";

  /** Makes the vCPU leave run() with Intr as soon as it can; safe from any thread. */
  void kick() {
    kick = true;
    synchronized (kickLock) {
      // Never signal a closed fd: its number may already belong to another file.
      if (!kickFdClosed) {
        Posix.signalEventfd(kickFd);
      }
    }
  }

  private final Object kickLock = new Object();
  private boolean kickFdClosed;

  /** Consumes a kick: clears the flag and empties the kick eventfd. */
  private void consumeKick() {
    kick = false;
    if ((Posix.poll(new int[] {kickFd}, new int[] {Posix.POLLIN}, 0)[0] & Posix.POLLIN) != 0) {
      Posix.drainEventfd(kickFd);
    }
  }

  /** The engine thread's body: serve requests until the mailbox closes. */
  void serve() {
    try {
      while (true) {
        Object request = mailbox.take();
        if (request == Mailbox.CLOSED) {
          return;
        }
        mailbox.reply(handle(request));
      }
    } finally {
      mailbox.close(); // a caller never waits for an engine thread that has ended
      if (uc != null) {
        uc.close();
      }
      if (access != null) {
        access.close();
      }
      if (posted != null) {
        posted.close();
      }
      synchronized (kickLock) {
        kickFdClosed = true;
        Posix.close(kickFd);
      }
    }
  }

  private Object handle(Object request) {
    try {
      return switch (request) {
        case Init i -> init();
        case Run r -> {
          held = r.held();
          yield runGuest();
        }
        case GetRegs g -> regs();
        case SetRegs s -> {
          if (inAccess) {
            yield busy("KVM_SET_REGS");
          }
          setRegs(s.regs());
          yield new Done();
        }
        case GetSregs g -> sregs();
        case SetSregs s -> {
          if (inAccess) {
            yield busy("KVM_SET_SREGS");
          }
          setSregs(s.sregs());
          yield new Done();
        }
        default -> throw new IllegalStateException("unknown request " + request);
      };
    } catch (KvmException e) {
      return new Failed(e);
    } catch (RuntimeException e) {
      return new Failed(KernelBug.report("vcpu" + id + " " + request, e));
    }
  }

  private static Failed busy(String ioctl) {
    return new Failed(
        new KvmException(
            ioctl, Errno.EBUSY, "an MMIO/PIO exit is waiting for the run() that completes it"));
  }

  private Object init() {
    try {
      uc = new UcEngine(this);
    } catch (RuntimeException e) {
      throw new KvmException(
          "KVM_CREATE_VCPU", Errno.ENOMEM, "cannot open a Unicorn engine for vcpu" + id + ": " + e);
    }
    cpu = new CpuState(uc);
    delivery = new ExceptionDelivery(this);
    long timeout = ioregionTimeoutNanos();
    access = new IoregionAccess(kickFd, timeout);
    posted = new PostedBatch(kickFd, timeout);
    uc.installCoreHooks();
    setSregs(ResetState.sregs());
    setRegs(ResetState.regs());
    syncMemory();
    KvmException fault = failInitForTests;
    if (fault != null) {
      throw fault;
    }
    return new Done();
  }

  /**
   * For tests only: when set, every vCPU creation fails with it at the very end of its
   * initialisation, after the engine, its thread and its fds exist (what a failed creation must
   * release).
   */
  static volatile KvmException failInitForTests;

  // ---- running the guest -----------------------------------------------------------------

  private VcpuExit runGuest() {
    while (true) {
      if (kick) {
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
      int err = uc.start(uc.readReg(Uc.X86_REG_RIP), NO_END);
      if (!restores.isEmpty()) {
        restoreReadOnly();
      }
      flushPosted();
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
          VcpuExit exit = deliver(pendingVector, pendingSoftware);
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
        case Uc.ERR_OK -> {
          return new VcpuExit.Hlt();
        }
        case Uc.ERR_INSN_INVALID -> {
          VcpuExit exit = deliver(ExceptionDelivery.UD, false);
          if (exit != null) {
            return exit;
          }
        }
        case Uc.ERR_FETCH_UNMAPPED, Uc.ERR_FETCH_PROT -> {
          return emulationFailure(err, "instruction fetch from an address that is not RAM");
        }
        case Uc.ERR_WRITE_PROT -> {
          return emulationFailure(err, "write to read-only memory");
        }
        default -> {
          return emulationFailure(err, "the emulator stopped");
        }
      }
    }
  }

  private VcpuExit emulationFailure(int err, String what) {
    return new VcpuExit.InternalError(
        KVM_INTERNAL_ERROR_EMULATION,
        String.format(
            "%s at RIP 0x%x (%s)", what, uc.readReg(Uc.X86_REG_RIP), UcEngine.strerror(err)));
  }

  private VcpuExit deliver(int vector, boolean software) {
    return switch (delivery.deliver(vector, software)) {
      case DELIVERED -> null;
      case TRIPLE_FAULT -> {
        log.debug("vcpu{}: {}", id, delivery.lastProblem());
        yield new VcpuExit.Shutdown();
      }
      case UNSUPPORTED ->
          new VcpuExit.InternalError(KVM_INTERNAL_ERROR_DELIVERY_EV, delivery.lastProblem());
    };
  }

  /** Hands an exit to the VMM from inside a callback; returns once the next run() arrives. */
  private long exitToVmm(VcpuExit exit) {
    completed = false;
    inAccess = true;
    slotsInUse = mappedSlots;
    try {
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
        mailbox.reply(handle(request));
      }
    } finally {
      inAccess = false;
      slotsInUse = List.of();
    }
  }

  private void complete(long value) {
    completion = value;
    completed = true;
  }

  // ---- memory ----------------------------------------------------------------------------

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
    if (pieces.isPieceOrBegin(address, size)) {
      return;
    }
    long v = mask(value, size);
    if (write) {
      pieces.setValue(v);
    }
    long read = access(false, write, address, size, v);
    if (!write) {
      pieces.setValue(mask(read, size));
    }
  }

  @Override
  public long mmioRead(long address, int size) {
    if (pieces.covers(address, size)) {
      return pieces.pieceValue(address, size);
    }
    // The memory hook did not announce this access: serve it on its own.
    return mask(access(false, false, address, size, 0), size);
  }

  @Override
  public void mmioWrite(long address, int size, long value) {
    if (pieces.covers(address, size)) {
      return;
    }
    access(false, true, address, size, mask(value, size));
  }

  @Override
  public int ioIn(int port, int size) {
    return (int) mask(access(true, false, port & 0xffff, size, 0), size);
  }

  @Override
  public void ioOut(int port, int size, int value) {
    access(true, true, port & 0xffff, size, mask(value & 0xffff_ffffL, size));
  }

  /**
   * Routes one guest access: an ioeventfd signals and is done; an ioregion goes to its device
   * process; anything else exits to the VMM. Returns the value of a read.
   */
  private long access(boolean pio, boolean write, long address, int size, long data) {
    KernelIoBus bus = pio ? io.pio : io.mmio;
    if (!bus.isEmpty()) {
      if (write) {
        KernelIoBus.Eventfd e = bus.findEventfd(address, size, data);
        if (e != null && e.ref().tryAcquire()) {
          flushPosted(); // a doorbell comes after the posted writes before it
          if (trace.isTraceEnabled()) {
            trace.trace(
                "[vcpu{}] ioeventfd {} write {}=0x{} size={} data=0x{} -> eventfd {}",
                id,
                pio ? "pio" : "mmio",
                pio ? "port" : "addr",
                Long.toHexString(address),
                size,
                Long.toHexString(data),
                e.fd());
          }
          try {
            Posix.signalEventfd(e.fd());
          } catch (RuntimeException ex) {
            log.debug("vcpu{}: ioeventfd {} cannot be signalled: {}", id, e.fd(), ex.toString());
          } finally {
            e.ref().release();
          }
          return 0;
        }
      }
      KernelIoBus.Region r = bus.findRegion(address, size, write);
      if (r != null && r.ref.tryAcquire()) {
        try {
          return ioregion(r, pio, write, address, size, data);
        } finally {
          r.ref.release();
        }
      }
    }
    return vmmExit(pio, write, address, size, data);
  }

  private long vmmExit(boolean pio, boolean write, long address, int size, long data) {
    flushPosted();
    VcpuExit exit;
    if (pio) {
      exit =
          write
              ? new VcpuExit.IoOut((int) address, size, data)
              : new VcpuExit.IoIn((int) address, size, this::complete);
    } else {
      exit =
          write
              ? new VcpuExit.MmioWrite(address, size, data)
              : new VcpuExit.MmioRead(address, size, this::complete);
    }
    return exitToVmm(exit);
  }

  /** An access to an ioregion, done here in the kernel side: the VMM never sees it. */
  private long ioregion(
      KernelIoBus.Region r, boolean pio, boolean write, long address, int size, long data) {
    long offset = address - r.start();
    if (write && r.posted) {
      postWrite(r, pio, address, size, data, offset);
      return 0;
    }
    flushPosted();
    IoregionCommand cmd =
        write
            ? IoregionCommand.write(r.userData, offset, size, data, !r.posted)
            : IoregionCommand.read(r.userData, offset, size);
    access.start(r.context, r.writeFd, cmd);
    while (true) {
      switch (access.run(kicked)) {
        case DONE -> {
          long value = write ? 0 : access.value();
          if (trace.isTraceEnabled()) {
            trace.trace(
                "[vcpu{}] ioregionfd {} {} {}=0x{} size={} {} 0x{} (user_data={}, cmd fd {},"
                    + " resp fd {}{})",
                id,
                pio ? "pio" : "mmio",
                write ? "write" : "read",
                pio ? "port" : "addr",
                Long.toHexString(address),
                size,
                write ? "data" : "->",
                Long.toHexString(write ? data : value & IoregionCommand.mask(size)),
                r.userData,
                r.writeFd,
                r.readFd(),
                write && r.posted ? ", posted" : "");
          }
          return value;
        }
        case INTERRUPTED -> {
          if (!kick) {
            consumeKick(); // a stale wake-up from a kick already consumed
            continue;
          }
          consumeKick();
          exitToVmm(new VcpuExit.Intr());
          if (r.ref.isRetired()) {
            // The region was removed while the vCPU was out: finish as an ordinary exit.
            access.abandon();
            return vmmExit(pio, write, address, size, data);
          }
        }
        case FAILED -> {
          log.debug("vcpu{}: ioregion access failed: {}", id, access.failure());
          return exitToVmm(
              new VcpuExit.IoregionfdFailure(
                  address,
                  size,
                  write,
                  write ? data : 0,
                  pio,
                  r.start(),
                  r.size(),
                  errno(access.failureErrno()),
                  access.failure(),
                  this::complete));
        }
      }
    }
  }

  /** A posted write joins the vCPU's batch, which goes out when full or due (see PostedBatch). */
  private void postWrite(
      KernelIoBus.Region r, boolean pio, long address, int size, long data, long offset) {
    if (!posted.accepts(r.writeFd)) {
      flushPosted();
    }
    posted.add(r.writeFd, IoregionCommand.write(r.userData, offset, size, data, false), r);
    postedRegion = r;
    postedPio = pio;
    postedAddress = address;
    postedSize = size;
    postedData = data;
    if (trace.isTraceEnabled()) {
      trace.trace(
          "[vcpu{}] ioregionfd {} write {}=0x{} size={} data 0x{} (user_data={}, cmd fd {},"
              + " posted)",
          id,
          pio ? "pio" : "mmio",
          pio ? "port" : "addr",
          Long.toHexString(address),
          size,
          Long.toHexString(data),
          r.userData,
          r.writeFd);
    }
    if (posted.full()) {
      flushPosted();
    }
  }

  /**
   * Sends the batched posted writes, if any. Can wait (a full pipe): a kick then leaves run() with
   * Intr and the next run() goes on; a failure is reported as an IoregionfdFailure exit for the
   * last posted write, and the guest goes on after it.
   */
  private void flushPosted() {
    while (!posted.isEmpty()) {
      switch (posted.flush()) {
        case DONE -> {
          return;
        }
        case INTERRUPTED -> {
          if (kick) {
            consumeKick();
            exitToVmm(new VcpuExit.Intr());
          } else {
            consumeKick();
          }
        }
        case FAILED -> {
          log.debug("vcpu{}: posted writes failed: {}", id, posted.failure());
          exitToVmm(
              new VcpuExit.IoregionfdFailure(
                  postedAddress,
                  postedSize,
                  true,
                  postedData,
                  postedPio,
                  postedRegion.start,
                  postedRegion.size,
                  errno(posted.failureErrno()),
                  posted.failure(),
                  this::complete));
          return;
        }
      }
    }
  }

  private static Errno errno(int number) {
    for (Errno e : Errno.values()) {
      if (e.number() == number) {
        return e;
      }
    }
    return Errno.EIO;
  }

  @Override
  public void interrupt(int vector) {
    pendingVector = vector;
    pendingSoftware = isSoftwareInterrupt(vector);
    stop = Stop.EXCEPTION;
    uc.stop();
  }

  /**
   * Whether the interrupt Unicorn reports came from {@code int n}/{@code int3}/{@code into}: RIP
   * then already points past the instruction, whose bytes end there.
   */
  private boolean isSoftwareInterrupt(int vector) {
    KvmSregs s = cpu.read();
    long rip = uc.readReg(Uc.X86_REG_RIP);
    long linear = s.cs().base() + rip;
    byte[] two = readLinearQuietly(s, linear - 2, 2);
    if (two != null && (two[0] & 0xff) == 0xcd && (two[1] & 0xff) == vector) {
      return true;
    }
    if (two != null && vector == 3 && (two[1] & 0xff) == 0xcc) {
      return true;
    }
    return two != null && vector == 4 && (two[1] & 0xff) == 0xce;
  }

  private byte[] readLinearQuietly(KvmSregs s, long linear, int length) {
    try {
      long phys = dev.toykvm.kernel.x86.Linear.toPhysical(this, s, linear);
      return phys < 0 ? null : readPhysical(phys, length);
    } catch (RuntimeException e) {
      return null;
    }
  }

  /**
   * KVM turns a write to a {@code KVM_MEM_READONLY} slot into {@code KVM_EXIT_MMIO} and leaves the
   * memory alone. Unicorn can only let the write happen or abort the instruction, so the VMM gets
   * its exit here and the old bytes go back at the start of the next translation block: until then,
   * the rest of the current block would read the written value.
   */
  @Override
  public void readOnlyWrite(long address, int size, long value) {
    byte[] old = readPhysical(address, size);
    if (old != null) {
      restores.add(new Restore(address, old));
    }
    exitToVmm(new VcpuExit.MmioWrite(address, size, mask(value, size)));
  }

  private record Restore(long address, byte[] bytes) {}

  private final List<Restore> restores = new ArrayList<>();

  private void restoreReadOnly() {
    for (int i = restores.size() - 1; i >= 0; i--) {
      Restore r = restores.get(i);
      MemorySlot slot = slots.find(r.address());
      if (slot != null) {
        slot.memory()
            .asSlice(r.address() - slot.guestPhysAddr(), r.bytes().length)
            .copyFrom(MemorySegment.ofArray(r.bytes()));
      }
      uc.removeTranslations(r.address(), r.address() + r.bytes().length);
    }
    restores.clear();
  }

  @Override
  public void block(long address) {
    if (!restores.isEmpty()) {
      restoreReadOnly();
    }
    if (!posted.isEmpty() && posted.due(System.nanoTime())) {
      flushPosted();
    }
    if (kick) {
      stop = Stop.KICK;
      uc.stop();
    } else if (slots.generation() != mappedGeneration) {
      stop = Stop.REMAP;
      uc.stop();
    }
  }

  @Override
  public boolean unmapped(int type, long address, int size, long value) {
    if (type != Uc.MEM_FETCH_UNMAPPED) {
      failure =
          String.format(
              "%s of %d bytes at guest-physical 0x%x, beyond the 36-bit physical address space",
              type == Uc.MEM_WRITE_UNMAPPED ? "write" : "read", size, address);
      stop = Stop.FAILURE;
      uc.stop();
    }
    return false;
  }

  @Override
  public boolean cpuid() {
    return false;
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
    long[] v = new long[Uc.KVM_REGS_ORDER.length];
    for (int i = 0; i < v.length; i++) {
      v[i] = uc.readReg(Uc.KVM_REGS_ORDER[i]);
    }
    return KvmRegs.fromArray(v);
  }

  @Override
  public void setRegs(KvmRegs regs) {
    long[] v = regs.toArray();
    for (int i = 0; i < v.length; i++) {
      uc.writeReg(Uc.KVM_REGS_ORDER[i], v[i]);
    }
  }

  @Override
  public KvmSregs sregs() {
    return cpu.read();
  }

  @Override
  public void setSregs(KvmSregs sregs) {
    String why = dev.toykvm.kernel.x86.SregsValidator.whyInvalid(sregs);
    if (why != null) {
      throw new KvmException("KVM_SET_SREGS", Errno.EINVAL, why);
    }
    cpu.write(sregs);
  }

  @Override
  public byte[] readPhysical(long address, int length) {
    MemorySlot slot = slots.find(address);
    if (slot == null || address + length > slot.end()) {
      return null;
    }
    MemorySegment m = slot.memory().asSlice(address - slot.guestPhysAddr(), length);
    return m.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
  }

  @Override
  public boolean writePhysical(long address, byte[] bytes) {
    MemorySlot slot = slots.find(address);
    if (slot == null || slot.readOnly() || address + bytes.length > slot.end()) {
      return false;
    }
    slot.memory()
        .asSlice(address - slot.guestPhysAddr(), bytes.length)
        .copyFrom(MemorySegment.ofArray(bytes));
    return true;
  }
}
