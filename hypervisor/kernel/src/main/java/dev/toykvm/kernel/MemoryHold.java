package dev.toykvm.kernel;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * A blocking wait that keeps guest memory alive: the thread in {@code run()} waits for the vCPU's
 * answer in a {@code read(2)} of an eventfd, made as a downcall that also receives every slot's
 * memory segment as an (unused) argument.
 *
 * <p>Why: the FFM linker keeps the scope of every segment passed to a downcall alive until the call
 * returns, so while the guest runs, {@code close()} of a shared arena that backs guest memory fails
 * with {@link IllegalStateException} ("Session is acquired") instead of freeing memory that Unicorn
 * is using (which would crash the JVM). Nothing else in the API can hold another owner's arena
 * open. A confined segment can only be passed by its owner thread, which is then the thread blocked
 * here, so it cannot close its arena either.
 *
 * <p>How: glibc's variadic {@code syscall(SYS_read, fd, buf, 8, ...)}; the kernel reads only the
 * three arguments of {@code read}, the segments after them are never touched.
 */
final class MemoryHold {
  /** 32 slots, and as many again for the slots an engine still has mapped. */
  static final int MAX_SEGMENTS = 2 * MemorySlots.MAX_SLOTS;

  private static final long SYS_READ =
      switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> 0;
        case "aarch64" -> 63;
        default -> -1;
      };

  private static final MethodHandle[] BY_COUNT = new MethodHandle[MAX_SEGMENTS + 1];

  private MemoryHold() {}

  /**
   * Reads the eventfd {@code fd} into {@code buf} (8 bytes), blocking until it is signalled, while
   * keeping every segment of {@code hold} alive. Returns what {@code syscall} returned (8, or -1 on
   * an error such as {@code EINTR}: callers re-check their condition and wait again).
   */
  static long read(int fd, MemorySegment buf, MemorySegment[] hold) {
    if (SYS_READ < 0) {
      throw new IllegalStateException(
          "no read syscall number for " + System.getProperty("os.arch"));
    }
    MethodHandle h = handle(hold.length);
    Object[] args = new Object[4 + hold.length];
    args[0] = SYS_READ;
    args[1] = (long) fd;
    args[2] = buf;
    args[3] = 8L;
    System.arraycopy(hold, 0, args, 4, hold.length);
    try {
      return (long) h.invokeExact(args);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  private static synchronized MethodHandle handle(int segments) {
    if (segments > MAX_SEGMENTS) {
      throw new IllegalArgumentException(segments + " segments to hold, at most " + MAX_SEGMENTS);
    }
    MethodHandle h = BY_COUNT[segments];
    if (h == null) {
      MemoryLayout[] args = new MemoryLayout[4 + segments];
      args[0] = JAVA_LONG; // the syscall number
      args[1] = JAVA_LONG; // fd (variadic: passed as a full register)
      args[2] = ADDRESS; // buf
      args[3] = JAVA_LONG; // count
      for (int i = 0; i < segments; i++) {
        args[4 + i] = ADDRESS;
      }
      Linker linker = Linker.nativeLinker();
      h =
          linker
              .downcallHandle(
                  linker.defaultLookup().find("syscall").orElseThrow(),
                  FunctionDescriptor.of(JAVA_LONG, args),
                  Linker.Option.firstVariadicArg(1))
              .asSpreader(Object[].class, args.length);
      BY_COUNT[segments] = h;
    }
    return h;
  }
}
