package dev.toykvm.posix;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The few libc calls toykvm needs for pipes, eventfds and child processes, bound with the FFM API.
 *
 * <p>Every failing call throws {@link PosixException} naming the call and the errno (captured with
 * {@code Linker.Option.captureCallState("errno")}, so the JVM's own calls cannot overwrite it).
 * {@link #read} and {@link #write} retry on {@code EINTR}, return short counts as they are, and
 * allocate nothing: the caller passes a reusable buffer. All fds this class creates are
 * close-on-exec.
 *
 * <p>The calls that block ({@code read}, {@code write}, {@code poll}, {@code waitpid}) block the
 * calling carrier thread: use platform threads for them, not virtual threads.
 */
public final class Posix {
  private Posix() {}

  // errno values (Linux, x86-64).
  public static final int EPERM = 1;
  public static final int ENOENT = 2;
  public static final int ESRCH = 3;
  public static final int EINTR = 4;
  public static final int EIO = 5;
  public static final int EBADF = 9;
  public static final int ECHILD = 10;
  public static final int EAGAIN = 11;
  public static final int EINVAL = 22;
  public static final int EPIPE = 32;

  // poll(2) event bits.
  public static final int POLLIN = 0x001;
  public static final int POLLOUT = 0x004;
  public static final int POLLERR = 0x008;
  public static final int POLLHUP = 0x010;
  public static final int POLLNVAL = 0x020;

  // Signals.
  public static final int SIGKILL = 9;
  public static final int SIGTERM = 15;

  private static final int O_CLOEXEC = 0x80000;
  private static final int EFD_CLOEXEC = O_CLOEXEC;
  private static final int F_GETFD = 1;
  private static final int F_DUPFD_CLOEXEC = 1030;
  private static final int WNOHANG = 1;
  private static final int PR_SET_PDEATHSIG = 1;
  private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
  private static final short POSIX_SPAWN_SETSIGMASK = 0x08;

  // Opaque glibc types, over-allocated: x86-64 sizes are 80, 336 and 128 bytes.
  private static final long FILE_ACTIONS_SIZE = 256;
  private static final long SPAWNATTR_SIZE = 512;
  private static final long SIGSET_SIZE = 128;

  /** {@code struct pollfd {int fd; short events; short revents;}}. */
  private static final long POLLFD_SIZE = 8;

  /** {@code sizeof(cpu_set_t)}: 1024 CPUs. */
  private static final long CPU_SET_SIZE = 128;

  // ---- pipes and fds ---------------------------------------------------------------------

  /**
   * {@code pipe2(fds, O_CLOEXEC)}.
   *
   * @throws PosixException if the process is out of fds ({@code EMFILE}, {@code ENFILE})
   */
  public static Pipe pipe2() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment fds = arena.allocate(JAVA_INT, 2);
      MemorySegment errno = errnoSegment();
      int r;
      try {
        r = (int) Native.PIPE2.invokeExact(errno, fds, O_CLOEXEC);
      } catch (Throwable t) {
        throw rethrow(t);
      }
      if (r < 0) {
        throw new PosixException("pipe2(O_CLOEXEC)", errno(errno));
      }
      return new Pipe(fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1));
    }
  }

  /**
   * {@code read(fd, buf, len)}, retried on {@code EINTR}. Allocation-free.
   *
   * @return the number of bytes read, possibly fewer than {@code len}; 0 means end of file
   * @throws IllegalArgumentException if {@code len} is negative or larger than {@code buf}
   * @throws PosixException for any other error ({@code EBADF}, {@code EAGAIN}, ...)
   */
  public static long read(int fd, MemorySegment buf, long len) {
    return transfer(Native.READ, "read", fd, buf, len);
  }

  /**
   * {@code write(fd, buf, len)}, retried on {@code EINTR}. Allocation-free.
   *
   * @return the number of bytes written, possibly fewer than {@code len}
   * @throws IllegalArgumentException if {@code len} is negative or larger than {@code buf}
   * @throws PosixException for any other error; {@code EPIPE} when nobody reads the pipe any more
   *     (the JVM ignores SIGPIPE, so this is an errno, not a signal)
   */
  public static long write(int fd, MemorySegment buf, long len) {
    return transfer(Native.WRITE, "write", fd, buf, len);
  }

  /** {@code read} or {@code write} (same signature), retried on {@code EINTR}. */
  private static long transfer(
      MethodHandle call, String name, int fd, MemorySegment buf, long len) {
    checkLength(buf, len);
    MemorySegment errno = errnoSegment();
    while (true) {
      long r;
      try {
        r = (long) call.invokeExact(errno, fd, buf, len);
      } catch (Throwable t) {
        throw rethrow(t);
      }
      if (r >= 0) {
        return r;
      }
      int e = errno(errno);
      if (e != EINTR) {
        throw new PosixException(name + "(" + fd + ")", e);
      }
    }
  }

  /**
   * Reads until {@code len} bytes have arrived or the file ends. Allocation-free.
   *
   * @return {@code len}, or fewer if the file ended first (0: it ended before the first byte)
   * @throws PosixException as {@link #read}
   */
  public static long readFully(int fd, MemorySegment buf, long len) {
    checkLength(buf, len);
    long done = 0;
    while (done < len) {
      long n = read(fd, done == 0 ? buf : buf.asSlice(done), len - done);
      if (n == 0) {
        break;
      }
      done += n;
    }
    return done;
  }

  /**
   * Writes all {@code len} bytes, looping over short writes.
   *
   * @throws PosixException as {@link #write}
   */
  public static void writeFully(int fd, MemorySegment buf, long len) {
    checkLength(buf, len);
    long done = 0;
    while (done < len) {
      done += write(fd, done == 0 ? buf : buf.asSlice(done), len - done);
    }
  }

  /**
   * {@code close(fd)}. {@code EINTR} is not retried: on Linux the fd is closed anyway.
   *
   * @throws PosixException with {@code EBADF} if {@code fd} is not open
   */
  public static void close(int fd) {
    MemorySegment errno = errnoSegment();
    int r;
    try {
      r = (int) Native.CLOSE.invokeExact(errno, fd);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (r < 0) {
      int e = errno(errno);
      if (e != EINTR) {
        throw new PosixException("close(" + fd + ")", e);
      }
    }
  }

  /**
   * {@code fcntl(fd, F_DUPFD_CLOEXEC, 3)}: a new fd for the same open file (the kernel side's own
   * reference, as KVM takes one with {@code fget}: it stays valid when the caller closes {@code
   * fd}).
   *
   * @throws PosixException with {@code EBADF} if {@code fd} is not open
   */
  public static int dup(int fd) {
    MemorySegment errno = errnoSegment();
    int r;
    try {
      r = (int) NativeMore.FCNTL_INT.invokeExact(errno, fd, F_DUPFD_CLOEXEC, 3);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (r < 0) {
      throw new PosixException("fcntl(" + fd + ", F_DUPFD_CLOEXEC)", errno(errno));
    }
    return r;
  }

  /** {@code O_WRONLY}, for {@link #reopen}. */
  public static final int O_WRONLY = 1;

  /** {@code O_NONBLOCK}, for {@link #reopen}. */
  public static final int O_NONBLOCK = 0x800;

  /**
   * Opens the file behind {@code fd} again through {@code /proc/self/fd}: for a pipe, a new open
   * file description with its own flags (say {@code O_WRONLY | O_NONBLOCK}) on the same pipe,
   * close-on-exec. Unlike {@link #dup}, changing its flags does not change {@code fd}'s.
   *
   * @throws PosixException if it cannot be opened ({@code ENOENT} when {@code fd} is not open)
   */
  public static int reopen(int fd, int flags) {
    String path = "/proc/self/fd/" + fd;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment errno = errnoSegment();
      int r;
      try {
        r = (int) NativeMore.OPEN.invokeExact(errno, arena.allocateFrom(path), flags | O_CLOEXEC);
      } catch (Throwable t) {
        throw rethrow(t);
      }
      if (r < 0) {
        throw new PosixException("open(" + path + ")", errno(errno));
      }
      return r;
    }
  }

  /** Whether {@code fd} is open in this process: {@code fcntl(fd, F_GETFD)} fails with EBADF. */
  public static boolean isOpen(int fd) {
    MemorySegment errno = errnoSegment();
    int r;
    try {
      r = (int) NativeMore.FCNTL.invokeExact(errno, fd, F_GETFD);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (r >= 0) {
      return true;
    }
    int e = errno(errno);
    if (e == EBADF) {
      return false;
    }
    throw new PosixException("fcntl(" + fd + ", F_GETFD)", e);
  }

  /**
   * {@code poll} on {@code fds} for {@code POLLIN}, retried on {@code EINTR} with the same timeout.
   *
   * @param timeoutMs how long to wait; 0 checks and returns at once, negative waits forever
   * @return one result per fd, in the order given ({@code revents} 0 for the fds not ready; all 0
   *     after a timeout); a closed fd reports {@link Posix#POLLNVAL} rather than an exception
   * @throws PosixException if {@code poll} itself fails ({@code ENOMEM}, {@code EINVAL})
   */
  public static List<PollResult> poll(int[] fds, int timeoutMs) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment pollfds = arena.allocate(POLLFD_SIZE * Math.max(1, fds.length), 4);
      for (int i = 0; i < fds.length; i++) {
        pollfds.set(JAVA_INT, i * POLLFD_SIZE, fds[i]);
        pollfds.set(JAVA_SHORT, i * POLLFD_SIZE + 4, (short) POLLIN);
      }
      MemorySegment errno = errnoSegment();
      while (true) {
        int r;
        try {
          r = (int) Native.POLL.invokeExact(errno, pollfds, (long) fds.length, timeoutMs);
        } catch (Throwable t) {
          throw rethrow(t);
        }
        if (r >= 0) {
          break;
        }
        int e = errno(errno);
        if (e != EINTR) {
          throw new PosixException("poll(" + fds.length + " fds)", e);
        }
      }
      List<PollResult> results = new ArrayList<>(fds.length);
      for (int i = 0; i < fds.length; i++) {
        int revents = Short.toUnsignedInt(pollfds.get(JAVA_SHORT, i * POLLFD_SIZE + 6));
        results.add(new PollResult(fds[i], revents));
      }
      return results;
    }
  }

  /**
   * {@code poll} with the events to watch given per fd ({@link #POLLIN}, {@link #POLLOUT}), retried
   * on {@code EINTR}.
   *
   * @return the {@code revents} of each fd, in the order given (all 0 after a timeout)
   * @throws PosixException if {@code poll} itself fails
   */
  public static int[] poll(int[] fds, int[] events, int timeoutMs) {
    if (fds.length != events.length) {
      throw new IllegalArgumentException(
          "poll: " + fds.length + " fds but " + events.length + " event masks");
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment pollfds = arena.allocate(POLLFD_SIZE * Math.max(1, fds.length), 4);
      for (int i = 0; i < fds.length; i++) {
        pollfds.set(JAVA_INT, i * POLLFD_SIZE, fds[i]);
        pollfds.set(JAVA_SHORT, i * POLLFD_SIZE + 4, (short) events[i]);
      }
      MemorySegment errno = errnoSegment();
      while (true) {
        int r;
        try {
          r = (int) Native.POLL.invokeExact(errno, pollfds, (long) fds.length, timeoutMs);
        } catch (Throwable t) {
          throw rethrow(t);
        }
        if (r >= 0) {
          break;
        }
        int e = errno(errno);
        if (e != EINTR) {
          throw new PosixException("poll(" + fds.length + " fds)", e);
        }
      }
      int[] revents = new int[fds.length];
      for (int i = 0; i < fds.length; i++) {
        revents[i] = Short.toUnsignedInt(pollfds.get(JAVA_SHORT, i * POLLFD_SIZE + 6));
      }
      return revents;
    }
  }

  /** Bytes of one {@code struct pollfd} in a segment for {@link #poll(MemorySegment, int, int)}. */
  public static final long POLLFD_BYTES = POLLFD_SIZE;

  /** Sets entry {@code i} of a {@code struct pollfd} array: the fd and the events to watch. */
  public static void setPollfd(MemorySegment pollfds, int i, int fd, int events) {
    pollfds.set(JAVA_INT, i * POLLFD_SIZE, fd);
    pollfds.set(JAVA_SHORT, i * POLLFD_SIZE + 4, (short) events);
    pollfds.set(JAVA_SHORT, i * POLLFD_SIZE + 6, (short) 0);
  }

  /** The {@code revents} of entry {@code i} after {@link #poll(MemorySegment, int, int)}. */
  public static int revents(MemorySegment pollfds, int i) {
    return Short.toUnsignedInt(pollfds.get(JAVA_SHORT, i * POLLFD_SIZE + 6));
  }

  /**
   * {@code poll} on a caller-owned {@code struct pollfd} array (see {@link #setPollfd}), retried on
   * {@code EINTR}: the allocation-free form for hot paths.
   *
   * @return how many entries have events (0 after a timeout)
   * @throws PosixException if {@code poll} itself fails
   */
  public static int poll(MemorySegment pollfds, int count, int timeoutMs) {
    MemorySegment errno = errnoSegment();
    while (true) {
      int r;
      try {
        r = (int) Native.POLL.invokeExact(errno, pollfds, (long) count, timeoutMs);
      } catch (Throwable t) {
        throw rethrow(t);
      }
      if (r >= 0) {
        return r;
      }
      int e = errno(errno);
      if (e != EINTR) {
        throw new PosixException("poll(" + count + " fds)", e);
      }
    }
  }

  /** {@link #poll} on one fd. */
  public static PollResult poll(int fd, int timeoutMs) {
    return poll(new int[] {fd}, timeoutMs).getFirst();
  }

  // ---- eventfd ---------------------------------------------------------------------------

  /**
   * {@code eventfd(0, EFD_CLOEXEC)}: a blocking counter, starting at 0.
   *
   * @throws PosixException if the process is out of fds
   */
  public static int eventfd() {
    MemorySegment errno = errnoSegment();
    int r;
    try {
      r = (int) NativeMore.EVENTFD.invokeExact(errno, 0, EFD_CLOEXEC);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (r < 0) {
      throw new PosixException("eventfd(0, EFD_CLOEXEC)", errno(errno));
    }
    return r;
  }

  /**
   * Adds 1 to an eventfd's counter (writes the 8-byte value 1), waking its readers.
   *
   * @throws PosixException as {@link #write}
   */
  public static void signalEventfd(int fd) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment one = arena.allocate(JAVA_LONG);
      one.set(JAVA_LONG, 0, 1L);
      if (write(fd, one, 8) != 8) {
        throw new PosixException("write(" + fd + ") of an eventfd counter", EIO);
      }
    }
  }

  /**
   * Reads and resets an eventfd's counter without blocking.
   *
   * @return the counter (how many signals since the last drain), 0 if it was not signalled
   * @throws PosixException as {@link #read}
   */
  public static long drainEventfd(int fd) {
    if (!poll(fd, 0).readable()) {
      return 0;
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment counter = arena.allocate(JAVA_LONG);
      if (read(fd, counter, 8) != 8) {
        throw new PosixException("read(" + fd + ") of an eventfd counter", EIO);
      }
      return counter.get(JAVA_LONG, 0);
    }
  }

  // ---- processes -------------------------------------------------------------------------

  /**
   * {@code kill(pid, sig)}.
   *
   * @throws PosixException with {@code ESRCH} if there is no such process (a reaped child)
   */
  public static void kill(int pid, int sig) {
    MemorySegment errno = errnoSegment();
    int r;
    try {
      r = (int) NativeMore.KILL.invokeExact(errno, pid, sig);
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
          r = (int) NativeMore.WAITPID.invokeExact(errno, pid, status, block ? 0 : WNOHANG);
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
      return (int) Native.GETPID.invokeExact();
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code gettid()}: the kernel's id of the calling thread (its entry in /proc/PID/task). */
  public static int gettid() {
    try {
      return (int) NativeMore.GETTID.invokeExact();
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code sched_setaffinity(tid, sizeof mask, &mask)}: lets thread {@code tid} (a tid from {@link
   * #gettid()} or /proc/PID/task, or a pid for that process's main thread; 0 for the caller) run
   * only on the CPUs whose bits are set in {@code cpuMask} (CPUs 0..63). Threads it creates later
   * inherit the mask.
   *
   * @throws PosixException with {@code ESRCH} if there is no such thread, {@code EINVAL} if no CPU
   *     of the mask is online, {@code EPERM} if the thread is not ours to place
   */
  public static void schedSetaffinity(int tid, long cpuMask) {
    MemorySegment errno = errnoSegment();
    int r;
    try (Arena arena = Arena.ofConfined()) {
      // A cpu_set_t is 1024 bits; CPUs past 63 stay clear.
      MemorySegment set = arena.allocate(CPU_SET_SIZE, 8);
      set.set(JAVA_LONG, 0, cpuMask);
      r = (int) NativeMore.SCHED_SETAFFINITY.invokeExact(errno, tid, CPU_SET_SIZE, set);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (r < 0) {
      throw new PosixException(
          "sched_setaffinity(" + tid + ", 0x" + Long.toHexString(cpuMask) + ")", errno(errno));
    }
  }

  /** {@code getppid()}: 1 (or a subreaper) once the parent has died. */
  public static int getppid() {
    try {
      return (int) Native.GETPPID.invokeExact();
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
      r = (int) Native.PRCTL.invokeExact(errno, PR_SET_PDEATHSIG, (long) sig, 0L, 0L, 0L);
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
    if (argv.isEmpty()) {
      throw new IllegalArgumentException("cannot spawn: argv is empty");
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment actions = arena.allocate(FILE_ACTIONS_SIZE, 16);
      MemorySegment attr = arena.allocate(SPAWNATTR_SIZE, 16);
      spawnCall("posix_spawn_file_actions_init", NativeSpawn.FA_INIT, actions);
      try {
        spawnCall("posix_spawnattr_init", NativeSpawn.ATTR_INIT, attr);
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
          sigset(NativeSpawn.SIGFILLSET, all);
          sigset(NativeSpawn.SIGEMPTYSET, none);
          spawnCall("posix_spawnattr_setsigdefault", NativeSpawn.ATTR_SETSIGDEFAULT, attr, all);
          spawnCall("posix_spawnattr_setsigmask", NativeSpawn.ATTR_SETSIGMASK, attr, none);
          spawnCall(
              "posix_spawnattr_setflags",
              NativeSpawn.ATTR_SETFLAGS,
              attr,
              (short) (POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK));
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
            err = (int) NativeSpawn.SPAWNP.invokeExact(pid, file, actions, attr, argvArray, envp);
          } catch (Throwable t) {
            throw rethrow(t);
          }
          if (err != 0) {
            throw new PosixException("posix_spawnp(" + argv.getFirst() + ")", err);
          }
          return pid.get(JAVA_INT, 0);
        } finally {
          spawnCall("posix_spawnattr_destroy", NativeSpawn.ATTR_DESTROY, attr);
        }
      } finally {
        spawnCall("posix_spawn_file_actions_destroy", NativeSpawn.FA_DESTROY, actions);
      }
    }
  }

  // ---- errno names -----------------------------------------------------------------------

  /** The symbolic name of an errno ({@code strerrorname_np}), e.g. {@code "EPIPE"}. */
  public static String errnoName(int errno) {
    String s = cString(NativeMore.STRERRORNAME, errno);
    return s != null ? s : "errno " + errno;
  }

  /** The description of an errno ({@code strerrordesc_np}), e.g. {@code "Broken pipe"}. */
  public static String strerror(int errno) {
    String s = cString(NativeMore.STRERRORDESC, errno);
    return s != null ? s : "unknown error";
  }

  // ---- helpers ---------------------------------------------------------------------------

  private static void addDup2(MemorySegment actions, int fd, int target) {
    spawnCall(
        "posix_spawn_file_actions_adddup2(" + fd + ", " + target + ")",
        NativeSpawn.FA_ADDDUP2,
        actions,
        fd,
        target);
  }

  private static void addCloseFrom(MemorySegment actions, int from) {
    if (NativeSpawn.FA_ADDCLOSEFROM != null) {
      spawnCall(
          "posix_spawn_file_actions_addclosefrom_np(" + from + ")",
          NativeSpawn.FA_ADDCLOSEFROM,
          actions,
          from);
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
            "posix_spawn_file_actions_addclose(" + fd + ")", NativeSpawn.FA_ADDCLOSE, actions, fd);
      }
    }
  }

  private static void spawnCall(String what, MethodHandle h, MemorySegment a) {
    int err;
    try {
      err = (int) h.invokeExact(a);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (err != 0) {
      throw new PosixException(what, err);
    }
  }

  private static void spawnCall(String what, MethodHandle h, MemorySegment a, MemorySegment b) {
    int err;
    try {
      err = (int) h.invokeExact(a, b);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (err != 0) {
      throw new PosixException(what, err);
    }
  }

  private static void spawnCall(String what, MethodHandle h, MemorySegment a, short b) {
    int err;
    try {
      err = (int) h.invokeExact(a, b);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (err != 0) {
      throw new PosixException(what, err);
    }
  }

  private static void spawnCall(String what, MethodHandle h, MemorySegment a, int b) {
    int err;
    try {
      err = (int) h.invokeExact(a, b);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (err != 0) {
      throw new PosixException(what, err);
    }
  }

  private static void spawnCall(String what, MethodHandle h, MemorySegment a, int b, int c) {
    int err;
    try {
      err = (int) h.invokeExact(a, b, c);
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

  private static MemorySegment cStringArray(Arena arena, List<String> strings) {
    MemorySegment array = arena.allocate(ADDRESS, strings.size() + 1L);
    for (int i = 0; i < strings.size(); i++) {
      array.setAtIndex(ADDRESS, i, arena.allocateFrom(strings.get(i)));
    }
    array.setAtIndex(ADDRESS, strings.size(), MemorySegment.NULL);
    return array;
  }

  private static String cString(MethodHandle h, int errno) {
    if (h == null) {
      return null;
    }
    MemorySegment s;
    try {
      s = (MemorySegment) h.invokeExact(errno);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    return s.equals(MemorySegment.NULL) ? null : s.reinterpret(256).getString(0);
  }

  private static void checkLength(MemorySegment buf, long len) {
    if (len < 0 || len > buf.byteSize()) {
      throw new IllegalArgumentException(
          "cannot transfer " + len + " bytes with a buffer of " + buf.byteSize());
    }
  }

  private static final ThreadLocal<MemorySegment> ERRNO_SEGMENT =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(Native.CAPTURE_LAYOUT));

  private static MemorySegment errnoSegment() {
    return ERRNO_SEGMENT.get();
  }

  private static int errno(MemorySegment captured) {
    return (int) Native.ERRNO.get(captured, 0L);
  }

  private static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) {
      throw r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    throw new IllegalStateException("cannot call libc: " + t, t);
  }

  // ---- the library -----------------------------------------------------------------------

  // Linking a downcall costs a few ms at start-up (its stub and method handles are generated; an
  // AOT cache does not keep them), so the handles are in three holders, each linked on first use:
  // a device JVM needs only Native's.

  /** What every process needs: pipes, errno, and dying with the parent. */
  private static final class Native {
    static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    static final VarHandle ERRNO =
        CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    static final Linker LINKER = Linker.nativeLinker();
    static final SymbolLookup LIBC = LINKER.defaultLookup();
    static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    static final MethodHandle PIPE2 = errnoCall("pipe2", JAVA_INT, ADDRESS, JAVA_INT);
    static final MethodHandle READ = errnoCall("read", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    static final MethodHandle WRITE = errnoCall("write", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    static final MethodHandle CLOSE = errnoCall("close", JAVA_INT, JAVA_INT);
    static final MethodHandle POLL = errnoCall("poll", JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
    static final MethodHandle PRCTL =
        LINKER.downcallHandle(
            LIBC.findOrThrow("prctl"),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            CAPTURE_ERRNO,
            Linker.Option.firstVariadicArg(1));
    static final MethodHandle GETPID = plain("getpid", FunctionDescriptor.of(JAVA_INT));
    static final MethodHandle GETPPID = plain("getppid", FunctionDescriptor.of(JAVA_INT));

    static MethodHandle errnoCall(String name, MemoryLayout result, MemoryLayout... args) {
      return LINKER.downcallHandle(
          LIBC.findOrThrow(name), FunctionDescriptor.of(result, args), CAPTURE_ERRNO);
    }

    static MethodHandle plain(String name, FunctionDescriptor descriptor) {
      return LINKER.downcallHandle(LIBC.findOrThrow(name), descriptor);
    }

    static MethodHandle optional(String name, FunctionDescriptor descriptor) {
      return LIBC.find(name).map(s -> LINKER.downcallHandle(s, descriptor)).orElse(null);
    }
  }

  /** posix_spawn and its helpers (they return the error number instead of setting errno). */
  private static final class NativeSpawn {
    static final MethodHandle SPAWNP =
        Native.plain(
            "posix_spawnp",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle FA_INIT =
        Native.plain("posix_spawn_file_actions_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle FA_DESTROY =
        Native.plain("posix_spawn_file_actions_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle FA_ADDDUP2 =
        Native.plain(
            "posix_spawn_file_actions_adddup2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    static final MethodHandle FA_ADDCLOSE =
        Native.plain(
            "posix_spawn_file_actions_addclose",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    static final MethodHandle FA_ADDCLOSEFROM =
        Native.optional(
            "posix_spawn_file_actions_addclosefrom_np",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    static final MethodHandle ATTR_INIT =
        Native.plain("posix_spawnattr_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle ATTR_DESTROY =
        Native.plain("posix_spawnattr_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle ATTR_SETFLAGS =
        Native.plain(
            "posix_spawnattr_setflags", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT));
    static final MethodHandle ATTR_SETSIGMASK =
        Native.plain(
            "posix_spawnattr_setsigmask", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle ATTR_SETSIGDEFAULT =
        Native.plain(
            "posix_spawnattr_setsigdefault", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle SIGEMPTYSET =
        Native.plain("sigemptyset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle SIGFILLSET =
        Native.plain("sigfillset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  }

  /** The rest of libc: bound on first use, not by every process that reads a pipe. */
  private static final class NativeMore {
    static final MethodHandle OPEN =
        Native.LINKER.downcallHandle(
            Native.LIBC.findOrThrow("open"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT),
            Native.CAPTURE_ERRNO,
            Linker.Option.firstVariadicArg(2));
    static final MethodHandle FCNTL =
        Native.LINKER.downcallHandle(
            Native.LIBC.findOrThrow("fcntl"),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT),
            Native.CAPTURE_ERRNO,
            Linker.Option.firstVariadicArg(2));
    static final MethodHandle FCNTL_INT =
        Native.LINKER.downcallHandle(
            Native.LIBC.findOrThrow("fcntl"),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
            Native.CAPTURE_ERRNO,
            Linker.Option.firstVariadicArg(2));
    static final MethodHandle EVENTFD = Native.errnoCall("eventfd", JAVA_INT, JAVA_INT, JAVA_INT);
    static final MethodHandle KILL = Native.errnoCall("kill", JAVA_INT, JAVA_INT, JAVA_INT);
    static final MethodHandle WAITPID =
        Native.errnoCall("waitpid", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
    static final MethodHandle GETTID = Native.plain("gettid", FunctionDescriptor.of(JAVA_INT));
    static final MethodHandle SCHED_SETAFFINITY =
        Native.errnoCall("sched_setaffinity", JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS);
    static final MethodHandle STRERRORNAME =
        Native.optional("strerrorname_np", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    static final MethodHandle STRERRORDESC =
        Native.optional("strerrordesc_np", FunctionDescriptor.of(ADDRESS, JAVA_INT));
  }
}
