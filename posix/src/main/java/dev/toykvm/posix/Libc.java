package dev.toykvm.posix;

import static java.lang.foreign.ValueLayout.ADDRESS;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.List;

/**
 * The FFM plumbing the classes of this package share: the linker and libc's symbols, the errno
 * capture ({@code Linker.Option.captureCallState("errno")}, so the JVM's own calls cannot overwrite
 * it) and C strings. Each class makes its own method handles with these, in its static initialiser,
 * so a class's calls are linked when that class is first used.
 */
final class Libc {
  private Libc() {}

  /** Every fd this package creates is close-on-exec. */
  static final int O_CLOEXEC = 0x80000;

  private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));

  private static final Linker LINKER = Linker.nativeLinker();
  private static final SymbolLookup LIBC = LINKER.defaultLookup();
  private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

  private static final ThreadLocal<MemorySegment> ERRNO_SEGMENT =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));

  /**
   * A call that sets errno: the handle takes the capture segment ({@link #errnoSegment()}) first,
   * then the call's own arguments.
   */
  static MethodHandle errnoCall(String name, MemoryLayout result, MemoryLayout... args) {
    return LINKER.downcallHandle(
        LIBC.findOrThrow(name), FunctionDescriptor.of(result, args), CAPTURE_ERRNO);
  }

  /**
   * A variadic call that sets errno ({@code open}, {@code fcntl}, {@code prctl}), its arguments
   * from index {@code firstVariadicArg} on passed as varargs.
   */
  static MethodHandle variadicErrnoCall(
      String name, FunctionDescriptor descriptor, int firstVariadicArg) {
    return LINKER.downcallHandle(
        LIBC.findOrThrow(name),
        descriptor,
        CAPTURE_ERRNO,
        Linker.Option.firstVariadicArg(firstVariadicArg));
  }

  /** A call that does not set errno (or whose errno nobody reads). */
  static MethodHandle plain(String name, FunctionDescriptor descriptor) {
    return LINKER.downcallHandle(LIBC.findOrThrow(name), descriptor);
  }

  /** {@link #plain}, or null if this libc has no such symbol (an older glibc). */
  static MethodHandle optional(String name, FunctionDescriptor descriptor) {
    return LIBC.find(name).map(s -> LINKER.downcallHandle(s, descriptor)).orElse(null);
  }

  /** The calling thread's errno capture segment, reused by every call it makes. */
  static MemorySegment errnoSegment() {
    return ERRNO_SEGMENT.get();
  }

  /** The errno a call left in {@code captured}. */
  static int errno(MemorySegment captured) {
    return (int) ERRNO.get(captured, 0L);
  }

  /** Rethrows what {@code invokeExact} threw: unchecked as it is, anything else wrapped. */
  static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) {
      throw r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    throw new IllegalStateException("cannot call libc: " + t, t);
  }

  /**
   * Calls {@code h} (a {@code const char *f(int)}) and reads the C string it returns, or returns
   * null if {@code h} is null or it returned NULL.
   */
  static String cString(MethodHandle h, int arg) {
    if (h == null) {
      return null;
    }
    MemorySegment s;
    try {
      s = (MemorySegment) h.invokeExact(arg);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    return s.equals(MemorySegment.NULL) ? null : s.reinterpret(256).getString(0);
  }

  /** A NULL-terminated {@code char *[]} of {@code strings}, allocated in {@code arena}. */
  static MemorySegment cStringArray(Arena arena, List<String> strings) {
    MemorySegment array = arena.allocate(ADDRESS, strings.size() + 1L);
    for (int i = 0; i < strings.size(); i++) {
      array.setAtIndex(ADDRESS, i, arena.allocateFrom(strings.get(i)));
    }
    array.setAtIndex(ADDRESS, strings.size(), MemorySegment.NULL);
    return array;
  }
}
