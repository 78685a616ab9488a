package dev.toykvm.bench;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * libunicorn with nothing around it, the baseline of {@code toykvm bench guest-speed}: one engine,
 * guest RAM mapped with {@code uc_mem_map_ptr} (as the kernel side maps a slot), registers set, and
 * {@code uc_emu_start} called directly: no hooks, no kernel side. Its own few FFM bindings, so that
 * the benchmark stays above the kernel line (it names no kernel class).
 */
final class BareUnicorn implements AutoCloseable {
  static final int MODE_16 = 1 << 1;
  static final int MODE_32 = 1 << 2;
  static final int REG_EAX = 19;
  static final int REG_ECX = 22;
  static final int REG_EDI = 23;
  static final int REG_ESP = 30;
  private static final int ARCH_X86 = 4;
  private static final int PROT_ALL = 7;

  private static final MethodHandle OPEN;
  private static final MethodHandle CLOSE;
  private static final MethodHandle MAP_PTR;
  private static final MethodHandle REG_WRITE;
  private static final MethodHandle REG_READ;
  private static final MethodHandle START;

  static {
    Linker linker = Linker.nativeLinker();
    SymbolLookup lib = SymbolLookup.libraryLookup("libunicorn.so.2", Arena.global());
    OPEN =
        linker.downcallHandle(
            lib.findOrThrow("uc_open"),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    CLOSE =
        linker.downcallHandle(
            lib.findOrThrow("uc_close"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
    MAP_PTR =
        linker.downcallHandle(
            lib.findOrThrow("uc_mem_map_ptr"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS));
    REG_WRITE =
        linker.downcallHandle(
            lib.findOrThrow("uc_reg_write"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    REG_READ =
        linker.downcallHandle(
            lib.findOrThrow("uc_reg_read"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    START =
        linker.downcallHandle(
            lib.findOrThrow("uc_emu_start"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
  }

  private final Arena arena = Arena.ofConfined();
  private final MemorySegment uc;
  private final MemorySegment scratch = arena.allocate(JAVA_LONG);

  /** An engine in {@code mode} ({@link #MODE_16} real mode, {@link #MODE_32} flat 32-bit). */
  BareUnicorn(int mode) {
    MemorySegment handle = arena.allocate(ADDRESS);
    check("uc_open", call(() -> (int) OPEN.invokeExact(ARCH_X86, mode, handle)));
    uc = handle.get(ADDRESS, 0);
  }

  /** Maps {@code ram} (not copied) at guest-physical 0. */
  void mapRam(MemorySegment ram) {
    check(
        "uc_mem_map_ptr",
        call(() -> (int) MAP_PTR.invokeExact(uc, 0L, ram.byteSize(), PROT_ALL, ram)));
  }

  void setReg(int reg, long value) {
    scratch.set(JAVA_LONG, 0, value);
    check("uc_reg_write", call(() -> (int) REG_WRITE.invokeExact(uc, reg, scratch)));
  }

  long reg(int reg) {
    scratch.set(JAVA_LONG, 0, 0);
    check("uc_reg_read", call(() -> (int) REG_READ.invokeExact(uc, reg, scratch)));
    return scratch.get(JAVA_LONG, 0);
  }

  /** Runs from {@code begin} to the guest's {@code hlt}. */
  void run(long begin) {
    check("uc_emu_start", call(() -> (int) START.invokeExact(uc, begin, 0L, 0L, 0L)));
  }

  @Override
  public void close() {
    call(() -> (int) CLOSE.invokeExact(uc));
    arena.close();
  }

  private static void check(String what, int err) {
    if (err != 0) {
      throw new BenchException("cannot run bare libunicorn: " + what + " failed (" + err + ")");
    }
  }

  @FunctionalInterface
  private interface IntCall {
    int call() throws Throwable;
  }

  private static int call(IntCall c) {
    try {
      return c.call();
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }
}
