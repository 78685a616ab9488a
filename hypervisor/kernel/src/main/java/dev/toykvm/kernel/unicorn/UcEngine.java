package dev.toykvm.kernel.unicorn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;

/**
 * One Unicorn x86-64 engine ({@code uc_engine}), bound with the FFM API: the calls toykvm needs and
 * the upcalls into {@link UcCallbacks}.
 *
 * <p>Not thread-safe: an engine is used by one thread at a time (its vCPU's engine thread). Every
 * failing call throws {@link UnicornException} naming the call and Unicorn's error text.
 */
public final class UcEngine implements AutoCloseable {

  static final String LIBRARY = "libunicorn.so.2";

  private final MemorySegment uc;
  private final Arena arena = Arena.ofShared();
  private final MemorySegment scratch = arena.allocate(64, 8);
  private final MemorySegment abortedFlag = arena.allocate(JAVA_INT);
  private boolean aborted;
  private final UcCallbacks callbacks;
  private final Upcalls upcalls;
  private BlockGate gate;
  private final FarReturnRepairs farReturns; // libunicorn's real-mode retf bug (FarReturnWatch)
  private final java.util.List<MemorySegment> contexts = new java.util.ArrayList<>();
  private boolean closed;

  /**
   * Opens a 64-bit x86 engine.
   *
   * @throws UnicornException if {@code uc_open} fails
   * @throws IllegalStateException if libunicorn.so.2 cannot be loaded (see {@link #loadError()})
   */
  public UcEngine(UcCallbacks callbacks) {
    UcLibrary.check();
    this.callbacks = callbacks;
    this.farReturns = new FarReturnRepairs(callbacks, this::stop);
    MemorySegment handle = arena.allocate(ADDRESS);
    check(
        "uc_open",
        nativeInt(() -> (int) UcLibrary.OPEN.invokeExact(Uc.ARCH_X86, Uc.MODE_64, handle)));
    this.uc = handle.get(ADDRESS, 0);
    this.upcalls = new Upcalls(this, arena);
  }

  /** Why libunicorn could not be loaded, or null if it was. */
  public static String loadError() {
    return UcLibrary.LOAD_ERROR;
  }

  // ---- registers -------------------------------------------------------------------------

  public long readReg(int reg) {
    scratch.set(JAVA_LONG, 0, 0);
    check("uc_reg_read", nativeInt(() -> (int) UcLibrary.REG_READ.invokeExact(uc, reg, scratch)));
    return scratch.get(JAVA_LONG, 0);
  }

  public void writeReg(int reg, long value) {
    scratch.set(JAVA_LONG, 0, value);
    check("uc_reg_write", nativeInt(() -> (int) UcLibrary.REG_WRITE.invokeExact(uc, reg, scratch)));
  }

  /** Writes a 16-bit register (segment selectors take a uint16_t). */
  public void writeReg16(int reg, int value) {
    scratch.set(JAVA_LONG, 0, 0);
    scratch.set(ValueLayouts.U16, 0, (short) value);
    check("uc_reg_write", nativeInt(() -> (int) UcLibrary.REG_WRITE.invokeExact(uc, reg, scratch)));
  }

  /** Reads a {@code uc_x86_mmr}: {selector u16 @0, base u64 @8, limit u32 @16, flags u32 @20}. */
  public long[] readMmr(int reg) {
    scratch.fill((byte) 0);
    check("uc_reg_read", nativeInt(() -> (int) UcLibrary.REG_READ.invokeExact(uc, reg, scratch)));
    return new long[] {
      Short.toUnsignedLong(scratch.get(ValueLayouts.U16, 0)),
      scratch.get(JAVA_LONG, 8),
      Integer.toUnsignedLong(scratch.get(JAVA_INT, 16)),
      Integer.toUnsignedLong(scratch.get(JAVA_INT, 20))
    };
  }

  public void writeMmr(int reg, int selector, long base, long limit, long flags) {
    scratch.fill((byte) 0);
    scratch.set(ValueLayouts.U16, 0, (short) selector);
    scratch.set(JAVA_LONG, 8, base);
    scratch.set(JAVA_INT, 16, (int) limit);
    scratch.set(JAVA_INT, 20, (int) flags);
    check("uc_reg_write", nativeInt(() -> (int) UcLibrary.REG_WRITE.invokeExact(uc, reg, scratch)));
  }

  /** Reads an MSR through the 16-byte {@code uc_x86_msr {u32 rid; u64 value}}. */
  public long readMsr(int msr) {
    scratch.fill((byte) 0);
    scratch.set(JAVA_INT, 0, msr);
    check(
        "uc_reg_read(MSR)",
        nativeInt(() -> (int) UcLibrary.REG_READ.invokeExact(uc, Uc.X86_REG_MSR, scratch)));
    return scratch.get(JAVA_LONG, 8);
  }

  public void writeMsr(int msr, long value) {
    scratch.fill((byte) 0);
    scratch.set(JAVA_INT, 0, msr);
    scratch.set(JAVA_LONG, 8, value);
    check(
        "uc_reg_write(MSR)",
        nativeInt(() -> (int) UcLibrary.REG_WRITE.invokeExact(uc, Uc.X86_REG_MSR, scratch)));
  }

  // ---- memory ----------------------------------------------------------------------------

  /** Maps {@code size} bytes of {@code memory} (not copied) at guest-physical {@code address}. */
  public void mapPtr(long address, long size, int perms, MemorySegment memory) {
    check(
        "uc_mem_map_ptr",
        nativeInt(() -> (int) UcLibrary.MEM_MAP_PTR.invokeExact(uc, address, size, perms, memory)));
  }

  /** Maps fresh zeroed memory that Unicorn owns (for scratch code). */
  public void map(long address, long size, int perms) {
    check(
        "uc_mem_map",
        nativeInt(() -> (int) UcLibrary.MEM_MAP.invokeExact(uc, address, size, perms)));
  }

  public void unmap(long address, long size) {
    check(
        "uc_mem_unmap", nativeInt(() -> (int) UcLibrary.MEM_UNMAP.invokeExact(uc, address, size)));
  }

  /**
   * Maps an MMIO range whose accesses call {@link UcCallbacks#mmioRead}/{@link
   * UcCallbacks#mmioWrite} with guest-physical addresses.
   */
  public void mapMmio(long address, long size) {
    MemorySegment base = MemorySegment.ofAddress(address);
    check(
        "uc_mmio_map",
        nativeInt(
            () ->
                (int)
                    UcLibrary.MMIO_MAP.invokeExact(
                        uc, address, size, upcalls.mmioRead, base, upcalls.mmioWrite, base)));
  }

  public void memRead(long address, MemorySegment into) {
    check(
        "uc_mem_read",
        nativeInt(() -> (int) UcLibrary.MEM_READ.invokeExact(uc, address, into, into.byteSize())));
  }

  public void memWrite(long address, MemorySegment from) {
    check(
        "uc_mem_write",
        nativeInt(() -> (int) UcLibrary.MEM_WRITE.invokeExact(uc, address, from, from.byteSize())));
  }

  /** Reads guest memory as the CPU would see it physically; returns null if unmapped. */
  public byte[] tryRead(long address, int length) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment buf = a.allocate(length);
      int err =
          nativeInt(() -> (int) UcLibrary.MEM_READ.invokeExact(uc, address, buf, (long) length));
      return err == Uc.ERR_OK ? buf.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE) : null;
    }
  }

  /** Writes guest memory; returns false if some of it is unmapped. */
  public boolean tryWrite(long address, byte[] bytes) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment buf = a.allocate(bytes.length);
      buf.copyFrom(MemorySegment.ofArray(bytes));
      return nativeInt(
              () -> (int) UcLibrary.MEM_WRITE.invokeExact(uc, address, buf, (long) bytes.length))
          == Uc.ERR_OK;
    }
  }

  /** Drops cached translations of {@code [begin, end)} (after code there changed behind us). */
  public void removeTranslations(long begin, long end) {
    check(
        "uc_ctl(TB_REMOVE_CACHE)",
        nativeInt(() -> (int) UcLibrary.CTL2.invokeExact(uc, Uc.CTL_TB_REMOVE_CACHE, begin, end)));
  }

  // ---- the CPU state as a whole ----------------------------------------------------------

  /**
   * Allocates a {@code uc_context} and returns its CPU-state bytes (the engine's {@code
   * CPUX86State} prefix, after the 16-byte context header). Freed when the engine closes.
   */
  public MemorySegment allocContext() {
    MemorySegment holder = arena.allocate(ADDRESS);
    check(
        "uc_context_alloc", nativeInt(() -> (int) UcLibrary.CONTEXT_ALLOC.invokeExact(uc, holder)));
    MemorySegment ctx = holder.get(ADDRESS, 0).reinterpret(CONTEXT_HEADER);
    long size = ctx.get(JAVA_LONG, 0);
    contexts.add(ctx);
    return ctx.reinterpret(CONTEXT_HEADER + size);
  }

  /** {@code uc_context_save} into a context from {@link #allocContext()}. */
  public void saveContext(MemorySegment context) {
    check(
        "uc_context_save", nativeInt(() -> (int) UcLibrary.CONTEXT_SAVE.invokeExact(uc, context)));
  }

  /** {@code uc_context_restore} from a context from {@link #allocContext()}. */
  public void restoreContext(MemorySegment context) {
    check(
        "uc_context_restore",
        nativeInt(() -> (int) UcLibrary.CONTEXT_RESTORE.invokeExact(uc, context)));
  }

  /** Bytes before the CPU state in a {@code uc_context}: {size_t size; int mode; int arch}. */
  public static final long CONTEXT_HEADER = 16;

  // ---- hooks -----------------------------------------------------------------------------

  /**
   * Installs the hooks every vCPU needs: in/out, interrupts, unmapped accesses, cpuid, and the
   * block hook through {@code gate}: the native gate ({@code ucblock.c}) calls {@link
   * UcCallbacks#block} only while the gate is raised; without the native library, or with {@code
   * nativeGate} false, every block calls it (slower, the same behaviour).
   */
  public void installCoreHooks(BlockGate gate, boolean nativeGate) {
    hook(Uc.HOOK_INSN, upcalls.ioIn, 1, 0, Uc.X86_INS_IN);
    hook(Uc.HOOK_INSN, upcalls.ioOut, 1, 0, Uc.X86_INS_OUT);
    hook(Uc.HOOK_INSN, upcalls.cpuid, 1, 0, Uc.X86_INS_CPUID);
    hook(Uc.HOOK_INTR, upcalls.intr, 1, 0, 0);
    this.gate = gate;
    MemorySegment env = FarReturnWatch.enabled() ? FarReturnWatch.locate(this) : null;
    farReturns.watch(env);
    if (env == null && FarReturnWatch.enabled()) {
      org.slf4j.LoggerFactory.getLogger(UcEngine.class)
          .warn(
              "libunicorn's CPU state is not where this build expects it: real-mode retf is not"
                  + " repaired (a retf may leave EIP at its own linear address)");
    }
    if (nativeGate && UcAbortGuard.BLOCK_GATE_HOOK != null) {
      gate.watchFarReturns(env != null ? env : MemorySegment.NULL, upcalls.farReturn);
      hook(Uc.HOOK_BLOCK, UcAbortGuard.BLOCK_GATE_HOOK, gate.bind(upcalls.block), 1, 0, 0);
      if (env != null) {
        hook(Uc.HOOK_EDGE_GENERATED, UcAbortGuard.BLOCK_GATE_TRANSLATED, gate.userData(), 1, 0, 0);
      }
    } else {
      hook(Uc.HOOK_BLOCK, upcalls.block, 1, 0, 0);
    }
    hook(
        Uc.HOOK_MEM_READ_UNMAPPED
            | Uc.HOOK_MEM_WRITE_UNMAPPED
            | Uc.HOOK_MEM_FETCH_UNMAPPED
            | Uc.HOOK_MEM_WRITE_PROT,
        upcalls.unmapped,
        1,
        0,
        0);
  }

  /** Hooks every read and write of {@code [begin, end]} (inclusive), for whole MMIO accesses. */
  public long hookMmioAccesses(long begin, long end) {
    return hook(Uc.HOOK_MEM_READ | Uc.HOOK_MEM_WRITE, upcalls.memAccess, begin, end, 0);
  }

  /**
   * Calls {@link UcCallbacks#hookedRead} before every guest read of {@code [begin, end]}
   * (inclusive, guest-physical). Can be added from inside a callback.
   */
  public long hookReads(long begin, long end) {
    return hook(Uc.HOOK_MEM_READ, upcalls.hookedRead, begin, end, 0);
  }

  public void removeHook(long handle) {
    check("uc_hook_del", nativeInt(() -> (int) UcLibrary.HOOK_DEL.invokeExact(uc, handle)));
  }

  private long hook(int type, MemorySegment callback, long begin, long end, int insn) {
    return hook(type, callback, MemorySegment.NULL, begin, end, insn);
  }

  private long hook(
      int type, MemorySegment callback, MemorySegment user, long begin, long end, int insn) {
    MemorySegment hh = arena.allocate(JAVA_LONG);
    check(
        "uc_hook_add",
        nativeInt(
            () ->
                (int)
                    UcLibrary.HOOK_ADD.invokeExact(
                        uc, hh, type, callback, user, begin, end, insn)));
    return hh.get(JAVA_LONG, 0);
  }

  /** Whether the native block gate is in use (else every block is a Java upcall). */
  public static boolean nativeBlockGate() {
    return UcAbortGuard.BLOCK_GATE_HOOK != null;
  }

  // ---- running ---------------------------------------------------------------------------

  /**
   * {@code uc_emu_start}: runs from {@code begin} until the linear address {@code until}, a stop, a
   * {@code hlt}, or an error. Returns Unicorn's error code (0 = returned normally) rather than
   * throwing, since a guest fault is not a toykvm failure.
   */
  public int start(long begin, long until) {
    long at = begin;
    while (true) {
      int r = startOnce(at, until);
      if (r == ABORTED) {
        return r;
      }
      long eip = farReturns.takeRepairedEip();
      if (eip < 0 && (r == Uc.ERR_FETCH_UNMAPPED || r == Uc.ERR_FETCH_PROT)) {
        // The wrong block could not even be translated, so its hook never ran.
        eip = farReturns.afterStop(gate);
      }
      if (eip >= 0) {
        writeReg(Uc.X86_REG_RIP, eip); // the retf's EIP (FarReturnWatch): run on from there
        at = eip;
        forgetBlock();
        continue;
      }
      forgetBlock();
      return r;
    }
  }

  /**
   * After {@link #ABORTED}, on the engine that replaced the aborted one (same {@link BlockGate}):
   * if the block being translated was only reached through libunicorn's real-mode retf bug ({@link
   * FarReturnWatch}), sets EIP to what the retf popped; true if it did.
   */
  public boolean repairFarReturnAfterAbort() {
    long eip = farReturns.afterStop(gate);
    if (eip < 0) {
      return false;
    }
    writeReg(Uc.X86_REG_RIP, eip);
    forgetBlock();
    return true;
  }

  private void forgetBlock() {
    if (gate != null) {
      gate.forgetBlock();
    }
    farReturns.forget();
  }

  private int startOnce(long begin, long until) {
    if (aborted) {
      throw new IllegalStateException("this engine aborted in an earlier uc_emu_start");
    }
    if (UcAbortGuard.ERROR != null) {
      return nativeInt(() -> (int) UcLibrary.EMU_START.invokeExact(uc, begin, until, 0L, 0L));
    }
    int r =
        nativeInt(
            () ->
                (int)
                    UcAbortGuard.START.invokeExact(
                        UcLibrary.EMU_START_ADDRESS, uc, begin, until, 0L, 0L, abortedFlag));
    if (abortedFlag.get(JAVA_INT, 0) != 0) {
      aborted = true;
      return ABORTED;
    }
    return r;
  }

  /**
   * What {@link #start} returns when libunicorn called {@code abort()} inside it (its translator
   * gives up on some encodings a CPU answers with #UD, see {@code src/main/c/ucguard.c}). The CPU
   * state is then the one at the start of the translation block being translated, none of whose
   * instructions ran; the engine must not run again: save its context, {@link #close} it and go on
   * with a new one. Not one of Unicorn's own codes (those are {@code >= 0}).
   */
  public static final int ABORTED = -1;

  /** Whether {@link #start} returned {@link #ABORTED}: only the context calls and close remain. */
  public boolean aborted() {
    return aborted;
  }

  /**
   * Why the abort guard is not in place (Unicorn aborts then end the process), or null if it is.
   */
  public static String guardError() {
    return UcAbortGuard.ERROR;
  }

  /**
   * {@code uc_emu_stop}: from inside a callback on the engine's own thread; or from another thread
   * while the engine is open, where it is exact only after {@link AsyncStop#makeExact} (see there).
   */
  public void stop() {
    nativeInt(() -> (int) UcLibrary.EMU_STOP.invokeExact(uc));
  }

  /** The {@code uc_engine *} itself, for {@link AsyncStop}. */
  MemorySegment handle() {
    return uc;
  }

  /** Unicorn's text for an error code. */
  public static String strerror(int code) {
    UcLibrary.check();
    MemorySegment s = nativeAddress(() -> (MemorySegment) UcLibrary.STRERROR.invokeExact(code));
    return s.reinterpret(1024).getString(0);
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (MemorySegment ctx : contexts) {
      nativeInt(() -> (int) UcLibrary.CONTEXT_FREE.invokeExact(ctx));
    }
    nativeInt(() -> (int) UcLibrary.CLOSE.invokeExact(uc));
    arena.close();
  }

  private static void check(String what, int err) {
    if (err != Uc.ERR_OK) {
      throw new UnicornException(what, err, strerror(err));
    }
  }

  @FunctionalInterface
  private interface IntCall {
    int call() throws Throwable;
  }

  @FunctionalInterface
  private interface AddressCall {
    MemorySegment call() throws Throwable;
  }

  private static int nativeInt(IntCall c) {
    try {
      return c.call();
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("native call failed", t);
    }
  }

  private static MemorySegment nativeAddress(AddressCall c) {
    try {
      return c.call();
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("native call failed", t);
    }
  }

  // ---- upcall stubs ----------------------------------------------------------------------

  /** The upcall stubs of one engine; they live as long as the engine's arena. */
  private static final class Upcalls {
    final MemorySegment mmioRead;
    final MemorySegment mmioWrite;
    final MemorySegment memAccess;
    final MemorySegment ioIn;
    final MemorySegment ioOut;
    final MemorySegment cpuid;
    final MemorySegment intr;
    final MemorySegment block;
    final MemorySegment unmapped;
    final MemorySegment hookedRead;
    final MemorySegment farReturn;

    Upcalls(UcEngine engine, Arena arena) {
      farReturn =
          stub(
              engine,
              arena,
              "onFarReturn",
              FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS));
      mmioRead =
          stub(
              engine,
              arena,
              "onMmioRead",
              FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS));
      mmioWrite =
          stub(
              engine,
              arena,
              "onMmioWrite",
              FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS));
      memAccess =
          stub(
              engine,
              arena,
              "onMemAccess",
              FunctionDescriptor.ofVoid(
                  ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS));
      ioIn =
          stub(
              engine,
              arena,
              "onIoIn",
              FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
      ioOut =
          stub(
              engine,
              arena,
              "onIoOut",
              FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
      cpuid = stub(engine, arena, "onCpuid", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
      intr =
          stub(engine, arena, "onInterrupt", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, ADDRESS));
      block =
          stub(
              engine,
              arena,
              "onBlock",
              FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS));
      unmapped =
          stub(
              engine,
              arena,
              "onUnmapped",
              FunctionDescriptor.of(
                  JAVA_BOOLEAN, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS));
      hookedRead =
          stub(
              engine,
              arena,
              "onHookedRead",
              FunctionDescriptor.ofVoid(
                  ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS));
    }

    /** An upcall stub calling {@code engine.method}, whose Java signature is the descriptor's. */
    private static MemorySegment stub(
        UcEngine engine, Arena arena, String method, FunctionDescriptor descriptor) {
      try {
        MethodHandle target =
            MethodHandles.lookup().bind(engine, method, descriptor.toMethodType());
        return Linker.nativeLinker().upcallStub(target, descriptor, arena);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("cannot create the Unicorn upcall " + method + ": " + e, e);
      }
    }
  }

  // The upcall targets: each catches everything, since an exception escaping ends the JVM.

  private long onMmioRead(MemorySegment engine, long offset, int size, MemorySegment base) {
    try {
      return callbacks.mmioRead(base.address() + offset, size);
    } catch (Throwable t) {
      fail(t);
      return 0;
    }
  }

  private void onMmioWrite(
      MemorySegment engine, long offset, int size, long value, MemorySegment base) {
    try {
      callbacks.mmioWrite(base.address() + offset, size, value);
    } catch (Throwable t) {
      fail(t);
    }
  }

  private void onMemAccess(
      MemorySegment engine, int type, long address, int size, long value, MemorySegment user) {
    try {
      callbacks.mmioAccess(type == Uc.MEM_WRITE, address, size, value);
    } catch (Throwable t) {
      fail(t);
    }
  }

  private int onIoIn(MemorySegment engine, int port, int size, MemorySegment user) {
    try {
      return callbacks.ioIn(port, size);
    } catch (Throwable t) {
      fail(t);
      return 0;
    }
  }

  private void onIoOut(MemorySegment engine, int port, int size, int value, MemorySegment user) {
    try {
      callbacks.ioOut(port, size, value);
    } catch (Throwable t) {
      fail(t);
    }
  }

  private int onCpuid(MemorySegment engine, MemorySegment user) {
    try {
      return callbacks.cpuid() ? 1 : 0;
    } catch (Throwable t) {
      fail(t);
      return 0;
    }
  }

  private void onInterrupt(MemorySegment engine, int vector, MemorySegment user) {
    try {
      callbacks.interrupt(vector);
    } catch (Throwable t) {
      fail(t);
    }
  }

  private void onBlock(MemorySegment engine, long address, int size, MemorySegment user) {
    try {
      if (user.address() == 0 && gate != null) {
        // No native gate: this upcall is the hook itself, far-return watch included.
        long prev = gate.blockAddress();
        int prevSize = gate.blockSize();
        gate.record(address, size);
        if (farReturns.watching() && farReturns.inJava(prev, prevSize, address)) {
          return;
        }
      }
      callbacks.block(address, size);
    } catch (Throwable t) {
      fail(t);
    }
  }

  private int onFarReturn(MemorySegment engine, long prev, int prevSize, MemorySegment user) {
    try {
      return farReturns.answer(prev, prevSize);
    } catch (Throwable t) {
      fail(t);
      return FarReturnRepairs.KEEP;
    }
  }

  private void onHookedRead(
      MemorySegment engine, int type, long address, int size, long value, MemorySegment user) {
    try {
      callbacks.hookedRead(address, size);
    } catch (Throwable t) {
      fail(t);
    }
  }

  private boolean onUnmapped(
      MemorySegment engine, int type, long address, int size, long value, MemorySegment user) {
    try {
      if (type == Uc.MEM_WRITE_PROT) {
        callbacks.readOnlyWrite(address, size, value);
        return true;
      }
      return callbacks.unmapped(type, address, size, value);
    } catch (Throwable t) {
      fail(t);
      return false;
    }
  }

  private void fail(Throwable t) {
    try {
      stop();
      callbacks.upcallFailed(t);
    } catch (Throwable ignored) {
      // Nothing more can be done inside an upcall; the failure is already recorded or lost.
    }
  }
}
