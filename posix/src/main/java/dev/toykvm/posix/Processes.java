package dev.toykvm.posix;

import static dev.toykvm.posix.Errnos.EINTR;
import static dev.toykvm.posix.Errnos.EINVAL;
import static dev.toykvm.posix.Errnos.ENOENT;
import static dev.toykvm.posix.Libc.cStringArray;
import static dev.toykvm.posix.Libc.errno;
import static dev.toykvm.posix.Libc.errnoCall;
import static dev.toykvm.posix.Libc.errnoSegment;
import static dev.toykvm.posix.Libc.optional;
import static dev.toykvm.posix.Libc.plain;
import static dev.toykvm.posix.Libc.rethrow;
import static dev.toykvm.posix.Libc.variadicErrnoCall;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Child processes and this process: {@code posix_spawnp} with exactly the fds the child should
 * have, {@code kill}, {@code waitpid}, the ids ({@code getpid}, {@code gettid}, {@code getppid})
 * and the parent-death signal a device process asks for.
 *
 * <p>{@code waitpid} with {@code block} blocks the calling carrier thread: use platform threads for
 * it, not virtual threads.
 */
public final class Processes {
  private Processes() {}

  // Signals.
  public static final int SIGKILL = 9;
  public static final int SIGTERM = 15;

  private static final int WNOHANG = 1;
  private static final int PR_SET_PDEATHSIG = 1;
  private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
  private static final short POSIX_SPAWN_SETSIGMASK = 0x08;
  private static final short POSIX_SPAWN_SETSID = 0x80;

  // Opaque glibc types, over-allocated: x86-64 sizes are 80, 336 and 128 bytes.
  private static final long FILE_ACTIONS_SIZE = 256;
  private static final long SPAWNATTR_SIZE = 512;
  private static final long SIGSET_SIZE = 128;

  private static final MethodHandle KILL = errnoCall("kill", JAVA_INT, JAVA_INT, JAVA_INT);
  private static final MethodHandle WAITPID =
      errnoCall("waitpid", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
  private static final MethodHandle PRCTL =
      variadicErrnoCall(
          "prctl",
          FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
          1);
  private static final MethodHandle GETPID = plain("getpid", FunctionDescriptor.of(JAVA_INT));
  private static final MethodHandle GETPPID = plain("getppid", FunctionDescriptor.of(JAVA_INT));
  private static final MethodHandle GETTID = plain("gettid", FunctionDescriptor.of(JAVA_INT));

  // posix_spawn and its helpers return the error number instead of setting errno.
  private static final MethodHandle SPAWNP =
      plain(
          "posix_spawnp",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
  private static final MethodHandle FA_INIT =
      plain("posix_spawn_file_actions_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  private static final MethodHandle FA_DESTROY =
      plain("posix_spawn_file_actions_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  private static final MethodHandle FA_ADDDUP2 =
      plain(
          "posix_spawn_file_actions_adddup2",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
  private static final MethodHandle FA_ADDCLOSE =
      plain(
          "posix_spawn_file_actions_addclose", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
  private static final MethodHandle FA_ADDCLOSEFROM =
      optional(
          "posix_spawn_file_actions_addclosefrom_np",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
  private static final MethodHandle ATTR_INIT =
      plain("posix_spawnattr_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  private static final MethodHandle ATTR_DESTROY =
      plain("posix_spawnattr_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  private static final MethodHandle ATTR_SETFLAGS =
      plain("posix_spawnattr_setflags", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT));
  private static final MethodHandle ATTR_SETSIGMASK =
      plain("posix_spawnattr_setsigmask", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
  private static final MethodHandle ATTR_SETSIGDEFAULT =
      plain("posix_spawnattr_setsigdefault", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
  private static final MethodHandle SIGEMPTYSET =
      plain("sigemptyset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  private static final MethodHandle SIGFILLSET =
      plain("sigfillset", FunctionDescriptor.of(JAVA_INT, ADDRESS));

  /**
   * {@code kill(pid, sig)}.
   *
   * @throws PosixException with {@code ESRCH} if there is no such process (a reaped child)
   */
  public static void kill(int pid, int sig) {
    MemorySegment errno = errnoSegment();
    int r;
    try {
      r = (int) KILL.invokeExact(errno, pid, sig);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (r < 0) {
      throw new PosixException("kill(" + pid + ", " + sig + ")", errno(errno));
    }
  }

  /**
   * {@code waitpid(pid, &status, hang ? 0 : WNOHANG)}, retried on {@code EINTR}; reaps the child.
   *
   * @param block whether to wait for the child to end
   * @return how it ended, or empty if {@code block} is false and it is still running
   * @throws PosixException with {@code ECHILD} if {@code pid} is not an unreaped child of ours
   */
  public static Optional<WaitStatus> waitpid(int pid, boolean block) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment status = arena.allocate(JAVA_INT);
      MemorySegment errno = errnoSegment();
      while (true) {
        int r;
        try {
          r = (int) WAITPID.invokeExact(errno, pid, status, block ? 0 : WNOHANG);
        } catch (Throwable t) {
          throw rethrow(t);
        }
        if (r > 0) {
          return Optional.of(WaitStatus.decode(r, status.get(JAVA_INT, 0)));
        }
        if (r == 0) {
          return Optional.empty();
        }
        int e = errno(errno);
        if (e != EINTR) {
          throw new PosixException("waitpid(" + pid + ")", e);
        }
      }
    }
  }

  /** {@code getpid()}. */
  public static int getpid() {
    try {
      return (int) GETPID.invokeExact();
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code gettid()}: the kernel's id of the calling thread (its entry in /proc/PID/task). */
  public static int gettid() {
    try {
      return (int) GETTID.invokeExact();
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code getppid()}: 1 (or a subreaper) once the parent has died. */
  public static int getppid() {
    try {
      return (int) GETPPID.invokeExact();
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code prctl(PR_SET_PDEATHSIG, sig)}: this process gets {@code sig} when its parent dies.
   *
   * <p>Linux sends it when the parent <em>thread</em> that spawned us ends, not the parent process:
   * a parent must spawn device processes from a thread that lives as long as they should. Check
   * {@link #getppid()} right after: a parent that died before the call sends nothing.
   *
   * @throws PosixException with {@code EINVAL} if {@code sig} is not a valid signal
   */
  public static void setParentDeathSignal(int sig) {
    MemorySegment errno = errnoSegment();
    int r;
    try {
      r = (int) PRCTL.invokeExact(errno, PR_SET_PDEATHSIG, (long) sig, 0L, 0L, 0L);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (r < 0) {
      throw new PosixException("prctl(PR_SET_PDEATHSIG, " + sig + ")", errno(errno));
    }
  }

  /**
   * Starts {@code argv[0]} (searched on {@code PATH}) with {@code posix_spawnp}, with {@code
   * stdin}, {@code stdout} and {@code stderr} dup2'ed onto its fds 0, 1 and 2, this process's
   * environment, default signal dispositions and an empty signal mask.
   *
   * <p>The child inherits no other fd: fds 3 and up are closed in the child ({@code
   * posix_spawn_file_actions_addclosefrom_np}), which also covers fds the JVM opened without
   * close-on-exec. The fds passed are not closed here: the caller closes its copies of the child's
   * ends after the call, so that EOF works.
   *
   * @return the child's pid; reap it with {@link #waitpid}
   * @throws PosixException with the error {@code posix_spawnp} returned, e.g. {@code ENOENT} if
   *     {@code argv[0]} is not found
   * @throws IllegalArgumentException if {@code argv} is empty
   */
  public static int spawnp(List<String> argv, int stdin, int stdout, int stderr) {
    return spawnp(argv, new int[] {stdin, stdout, stderr});
  }

  /**
   * {@link #spawnp(List, int, int, int)} with any number of fds for the child: {@code childFds[i]}
   * becomes the child's fd {@code i}; every other fd is closed in the child.
   *
   * @param childFds our fds; a source numbered below {@code childFds.length} must not be the target
   *     of an earlier entry (the copies are made in order)
   */
  public static int spawnp(List<String> argv, int[] childFds) {
    return spawnp(argv, childFds, (short) 0);
  }

  /**
   * {@link #spawnp(List, int[])}, the child in a new session and process group of its own ({@code
   * POSIX_SPAWN_SETSID}): its process group id is its pid, so {@link ProcessGroup#kill} can end it
   * and everything it started that stayed in the group, and no terminal signal (Ctrl-C) reaches it.
   */
  public static int spawnpInNewSession(List<String> argv, int[] childFds) {
    return spawnp(argv, childFds, POSIX_SPAWN_SETSID);
  }

  private static int spawnp(List<String> argv, int[] childFds, short extraFlags) {
    if (argv.isEmpty()) {
      throw new IllegalArgumentException("cannot spawn: argv is empty");
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment actions = arena.allocate(FILE_ACTIONS_SIZE, 16);
      MemorySegment attr = arena.allocate(SPAWNATTR_SIZE, 16);
      spawnCall("posix_spawn_file_actions_init", () -> (int) FA_INIT.invokeExact(actions));
      try {
        spawnCall("posix_spawnattr_init", () -> (int) ATTR_INIT.invokeExact(attr));
        try {
          // Each source fd is a close-on-exec fd numbered above every target, so no dup2 can
          // clobber a later source; the copies are not close-on-exec.
          for (int i = 0; i < childFds.length; i++) {
            int source = childFds[i];
            // dup2 onto target j runs before target i: it must not have replaced our source.
            if (source < i && childFds[source] != source) {
              throw new IllegalArgumentException(
                  "cannot spawn: fd " + childFds[i] + " would be overwritten before it is copied");
            }
          }
          for (int i = 0; i < childFds.length; i++) {
            addDup2(actions, childFds[i], i);
          }
          addCloseFrom(actions, childFds.length);
          MemorySegment all = arena.allocate(SIGSET_SIZE, 8);
          MemorySegment none = arena.allocate(SIGSET_SIZE, 8);
          sigset(SIGFILLSET, all);
          sigset(SIGEMPTYSET, none);
          spawnCall(
              "posix_spawnattr_setsigdefault",
              () -> (int) ATTR_SETSIGDEFAULT.invokeExact(attr, all));
          spawnCall(
              "posix_spawnattr_setsigmask", () -> (int) ATTR_SETSIGMASK.invokeExact(attr, none));
          short flags = (short) (POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | extraFlags);
          spawnCall("posix_spawnattr_setflags", () -> (int) ATTR_SETFLAGS.invokeExact(attr, flags));
          MemorySegment pid = arena.allocate(JAVA_INT);
          MemorySegment file = arena.allocateFrom(argv.getFirst());
          MemorySegment argvArray = cStringArray(arena, argv);
          List<String> env = new ArrayList<>();
          for (Map.Entry<String, String> e : System.getenv().entrySet()) {
            env.add(e.getKey() + "=" + e.getValue());
          }
          MemorySegment envp = cStringArray(arena, env);
          int err;
          try {
            err = (int) SPAWNP.invokeExact(pid, file, actions, attr, argvArray, envp);
          } catch (Throwable t) {
            throw rethrow(t);
          }
          if (err != 0) {
            throw new PosixException("posix_spawnp(" + argv.getFirst() + ")", err);
          }
          return pid.get(JAVA_INT, 0);
        } finally {
          spawnCall("posix_spawnattr_destroy", () -> (int) ATTR_DESTROY.invokeExact(attr));
        }
      } finally {
        spawnCall("posix_spawn_file_actions_destroy", () -> (int) FA_DESTROY.invokeExact(actions));
      }
    }
  }

  private static void addDup2(MemorySegment actions, int fd, int target) {
    spawnCall(
        "posix_spawn_file_actions_adddup2(" + fd + ", " + target + ")",
        () -> (int) FA_ADDDUP2.invokeExact(actions, fd, target));
  }

  private static void addCloseFrom(MemorySegment actions, int from) {
    if (FA_ADDCLOSEFROM != null) {
      spawnCall(
          "posix_spawn_file_actions_addclosefrom_np(" + from + ")",
          () -> (int) FA_ADDCLOSEFROM.invokeExact(actions, from));
      return;
    }
    // Older glibc: close every fd open now (the ones close-on-exec would close anyway are fine).
    java.io.File[] open = new java.io.File("/proc/self/fd").listFiles();
    if (open == null) {
      throw new PosixException("list /proc/self/fd to close it in the child", ENOENT);
    }
    for (java.io.File f : open) {
      int fd = Integer.parseInt(f.getName());
      if (fd >= from) {
        spawnCall(
            "posix_spawn_file_actions_addclose(" + fd + ")",
            () -> (int) FA_ADDCLOSE.invokeExact(actions, fd));
      }
    }
  }

  /** A posix_spawn* call: 0, or the error number it returns (they do not set errno). */
  @FunctionalInterface
  private interface SpawnCall {
    int call() throws Throwable;
  }

  private static void spawnCall(String what, SpawnCall c) {
    int err;
    try {
      err = c.call();
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (err != 0) {
      throw new PosixException(what, err);
    }
  }

  private static void sigset(MethodHandle h, MemorySegment set) {
    int r;
    try {
      r = (int) h.invokeExact(set);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (r != 0) {
      throw new PosixException("sigemptyset/sigfillset", EINVAL);
    }
  }
}
