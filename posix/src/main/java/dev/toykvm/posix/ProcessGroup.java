package dev.toykvm.posix;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Process groups: a child started with {@link Processes#spawnpInNewSession} leads a group whose id
 * is its pid, and whatever it forks stays in that group unless it leaves on purpose. Ending the
 * group ends them all.
 *
 * <p>The group id stays reserved while its leader is alive or an unreaped zombie, so a parent that
 * kills the group <em>before</em> reaping the leader ({@link #hasEnded} does not reap) can never
 * hit a group that reused the number.
 */
public final class ProcessGroup {
  private ProcessGroup() {}

  private static final int P_PID = 1;
  private static final int WNOHANG = 1;
  private static final int WEXITED = 4;
  private static final int WNOWAIT = 0x0100_0000;

  /** {@code sizeof(siginfo_t)} on Linux; {@code si_pid} is at byte 16 on x86-64. */
  private static final long SIGINFO_SIZE = 128;

  private static final long SI_PID_OFFSET = 16;

  /**
   * {@code kill(-pgid, sig)}: sends {@code sig} to every process in group {@code pgid}.
   *
   * @return whether the group had a process to signal ({@code false} for {@code ESRCH})
   * @throws IllegalArgumentException if {@code pgid} is not positive (0 and -1 mean other things)
   * @throws PosixException for another error, e.g. {@code EPERM}
   */
  public static boolean kill(int pgid, int sig) {
    if (pgid <= 1) {
      throw new IllegalArgumentException("cannot signal process group " + pgid);
    }
    try {
      Processes.kill(-pgid, sig);
      return true;
    } catch (PosixException e) {
      if (e.errno() == Errnos.ESRCH) {
        return false;
      }
      throw e;
    }
  }

  /**
   * Whether child {@code pid} has ended, without reaping it: {@code waitid(P_PID, pid, &info,
   * WEXITED | WNOHANG | WNOWAIT)}. Reap it afterwards with {@link Processes#waitpid}.
   *
   * @throws PosixException with {@code ECHILD} if {@code pid} is not an unreaped child of ours
   */
  public static boolean hasEnded(int pid) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment info = arena.allocate(SIGINFO_SIZE, 8);
      MemorySegment errno = arena.allocate(Native.CAPTURE_LAYOUT);
      while (true) {
        int r;
        try {
          r = (int) Native.WAITID.invokeExact(errno, P_PID, pid, info, WEXITED | WNOHANG | WNOWAIT);
        } catch (Throwable t) {
          throw new IllegalStateException("cannot call waitid: " + t, t);
        }
        if (r == 0) {
          // With WNOHANG and no state change, Linux leaves si_pid 0 (the buffer starts zeroed).
          return info.get(JAVA_INT, SI_PID_OFFSET) == pid;
        }
        int e = (int) Native.ERRNO.get(errno, 0L);
        if (e != Errnos.EINTR) {
          throw new PosixException("waitid(" + pid + ")", e);
        }
      }
    }
  }

  /**
   * The live processes of group {@code pgid} (zombies excluded: they run nothing), read from {@code
   * /proc}. For tests and diagnostics: the answer may be stale when it returns.
   */
  public static List<Integer> members(int pgid) {
    List<Integer> pids = new ArrayList<>();
    try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path dir : proc) {
        String stat;
        try {
          stat = Files.readString(dir.resolve("stat"));
        } catch (IOException e) {
          continue; // it ended while we looked
        }
        // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        if (f.length > 2 && !f[0].equals("Z") && Integer.parseInt(f[2]) == pgid) {
          pids.add(Integer.valueOf(dir.getFileName().toString()));
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot list /proc: " + e.getMessage(), e);
    }
    return pids;
  }

  private static final class Native {
    static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    static final VarHandle ERRNO =
        CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final Linker LINKER = Linker.nativeLinker();

    static final MethodHandle WAITID =
        LINKER.downcallHandle(
            LINKER.defaultLookup().findOrThrow("waitid"),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT),
            Linker.Option.captureCallState("errno"));
  }
}
