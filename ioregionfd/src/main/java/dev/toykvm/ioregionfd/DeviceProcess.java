package dev.toykvm.ioregionfd;

import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.ioregionfd.wire.IoregionResponse;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Pipe;
import dev.toykvm.posix.Poll;
import dev.toykvm.posix.PosixException;
import dev.toykvm.posix.ProcessGroup;
import dev.toykvm.posix.Processes;
import dev.toykvm.posix.WaitStatus;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A device program in a child process, wired the ioregionfd way: commands go to its fd 0, responses
 * come from its fd 1, and its fd 2 is collected here ({@link #stderr()}). Any program that speaks
 * the wire protocol will do: a device JVM, a C program.
 *
 * <p>Owns the child, everything the child starts, and three pipe ends. The child runs in a new
 * session, so it leads a process group of its own (group id = its pid), and whatever it forks stays
 * in that group: when the child ends, or is reaped, or {@link #close()} kills it, its whole group
 * is killed first (before the reap, so the group id cannot have been reused). {@link #close()}
 * closes the pipes, kills the group if the child still runs, reaps it and waits for the stderr
 * collector, so nothing outlives it. The child should be started from a thread that lives as long
 * as it ({@code PR_SET_PDEATHSIG} follows the parent thread).
 *
 * <p>Not thread-safe, except {@link #stderr()}.
 */
public final class DeviceProcess implements AutoCloseable {
  private final int pid;
  private final Pipe commands;
  private final Pipe responses;
  private final Pipe errors;
  private final Thread stderrThread;
  private final StderrCollector stderr;

  private final Arena arena = Arena.ofShared();
  private final MemorySegment buf = arena.allocate(IoregionCommand.BYTES, 8);
  private final MemorySegment pollfds = arena.allocate(2 * Poll.POLLFD_BYTES, 8);

  /** A response's {@code u64 data}, at byte 0, little-endian. */
  public static final ValueLayout.OfLong RESPONSE_DATA =
      ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);

  private volatile WaitStatus status; // set once, under this's lock (waitFor)
  private boolean closed;

  private DeviceProcess(List<String> argv, Consumer<String> stderrLines, int[] extraFds) {
    Pipe c = null;
    Pipe r = null;
    Pipe e = null;
    try {
      c = Fds.pipe2();
      r = Fds.pipe2();
      e = Fds.pipe2();
      int[] childFds = new int[3 + extraFds.length];
      childFds[0] = c.readFd();
      childFds[1] = r.writeFd();
      childFds[2] = e.writeFd();
      System.arraycopy(extraFds, 0, childFds, 3, extraFds.length);
      pid = Processes.spawnpInNewSession(argv, childFds);
    } catch (RuntimeException ex) {
      for (Pipe p : new Pipe[] {c, r, e}) {
        if (p != null) {
          p.close();
        }
      }
      arena.close();
      throw ex;
    }
    // Our copies of the child's ends must go, or we would never see its EOF (nor it ours).
    c.closeReadEnd();
    r.closeWriteEnd();
    e.closeWriteEnd();
    commands = c;
    responses = r;
    errors = e;
    stderr = new StderrCollector(e.readFd(), "pid " + pid, stderrLines);
    stderrThread = Thread.ofPlatform().daemon().name("stderr of pid " + pid).start(stderr);
  }

  /**
   * Starts {@code argv} (searched on {@code PATH}).
   *
   * @throws PosixException if it cannot be started (e.g. {@code ENOENT})
   */
  public static DeviceProcess start(List<String> argv) {
    return new DeviceProcess(List.copyOf(argv), line -> {}, new int[0]);
  }

  /**
   * Starts {@code argv} with {@code extraFds} as its fds 3, 4, ... (for example a pipe for a UART's
   * output), handing each line it writes on stderr to {@code stderrLines} as it comes (on the
   * collector thread; a line longer than 4 KiB is handed on in 4 KiB pieces, with one notice).
   *
   * @throws PosixException if it cannot be started (e.g. {@code ENOENT})
   */
  public static DeviceProcess start(
      List<String> argv, Consumer<String> stderrLines, int... extraFds) {
    return new DeviceProcess(List.copyOf(argv), stderrLines, extraFds.clone());
  }

  /** The fd the kernel side writes commands to (our end of the child's fd 0). */
  public int commandFd() {
    return commands.writeFd();
  }

  /** The fd the kernel side reads responses from (our end of the child's fd 1). */
  public int responseFd() {
    return responses.readFd();
  }

  /** The child's pid. */
  public int pid() {
    return pid;
  }

  /**
   * Writes one command to the child's fd 0.
   *
   * @throws PosixException with {@code EPIPE} if the child closed its fd 0 (e.g. it died)
   */
  public void send(IoregionCommand command) {
    command.encode(buf);
    Fds.writeFully(commands.writeFd(), buf, IoregionCommand.BYTES);
  }

  /** Writes raw bytes to the child's fd 0, e.g. a malformed command. */
  public void sendRaw(byte[] bytes) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment s = a.allocate(Math.max(1, bytes.length));
      MemorySegment.copy(MemorySegment.ofArray(bytes), 0, s, 0, bytes.length);
      Fds.writeFully(commands.writeFd(), s, bytes.length);
    }
  }

  /** Why {@link #awaitResponse} got no response. */
  public enum NoResponse {
    /** None arrived within the timeout. */
    TIMED_OUT,
    /** The child's fd 1 ended (it closed it, or died) before a whole response. */
    EOF,
    /** The wake fd was signalled first. */
    WOKEN
  }

  /** No response: why, and a message that includes the child's status and stderr. */
  public static final class NoResponseException extends IllegalStateException {
    private final NoResponse reason;

    NoResponseException(NoResponse reason, String message) {
      super(message);
      this.reason = reason;
    }

    public NoResponse reason() {
      return reason;
    }
  }

  /**
   * Reads one response from the child's fd 1.
   *
   * @throws NoResponseException if none arrives within {@code timeout}, or the child's fd 1 ends
   *     before a whole response (the message includes the child's stderr)
   */
  public IoregionResponse awaitResponse(Duration timeout) {
    return new IoregionResponse(awaitRawResponse(timeout, -1).get(RESPONSE_DATA, 0));
  }

  /**
   * Waits for one response on the child's fd 1, or until {@code wakeFd} (an eventfd, or -1 for
   * none) becomes readable, and returns its 32 raw bytes: {@code data} little-endian at 0, then the
   * padding, which this method does not check (the RFC ignores it). Allocation-free: this is the
   * VMM route's hot path; the segment is valid until the next call.
   *
   * @throws NoResponseException with {@link NoResponse#TIMED_OUT} if none arrives within {@code
   *     timeout}, {@link NoResponse#EOF} if the child's fd 1 ends before a whole response, {@link
   *     NoResponse#WOKEN} if {@code wakeFd} was signalled first
   */
  public MemorySegment awaitRawResponse(Duration timeout, int wakeFd) {
    long timeoutMs = Math.max(0, timeout.toMillis());
    long deadline = System.nanoTime() + timeout.toNanos();
    int received = 0;
    while (received < IoregionResponse.BYTES) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new NoResponseException(
            NoResponse.TIMED_OUT,
            "cannot read a response from pid "
                + pid
                + ": none within "
                + timeoutMs
                + " ms"
                + why());
      }
      Poll.setPollfd(pollfds, 0, responses.readFd(), Poll.POLLIN);
      Poll.setPollfd(pollfds, 1, wakeFd, Poll.POLLIN); // poll(2) skips a negative fd
      int waitMs = (int) Math.max(1, Math.min(Integer.MAX_VALUE, (left + 999_999) / 1_000_000));
      if (Poll.poll(pollfds, 2, waitMs) == 0) {
        continue;
      }
      if (wakeFd >= 0 && (Poll.revents(pollfds, 1) & Poll.POLLIN) != 0) {
        throw new NoResponseException(
            NoResponse.WOKEN, "cannot read a response from pid " + pid + ": woken up");
      }
      if (Poll.revents(pollfds, 0) == 0) {
        continue;
      }
      long n =
          Fds.read(responses.readFd(), buf.asSlice(received), IoregionResponse.BYTES - received);
      if (n == 0) {
        throw new NoResponseException(
            NoResponse.EOF,
            "cannot read a response from pid "
                + pid
                + ": EOF after "
                + received
                + " bytes"
                + why());
      }
      received += (int) n;
    }
    return buf;
  }

  /** Sends a read and returns the value of its response. */
  public long read(long userData, long offset, int size, Duration timeout) {
    send(IoregionCommand.read(userData, offset, size));
    return awaitResponse(timeout).data();
  }

  /**
   * Sends a write that waits for its response. The response's {@code data} is ignored, as the RFC
   * ignores it.
   */
  public void write(long userData, long offset, int size, long value, Duration timeout) {
    send(IoregionCommand.write(userData, offset, size, value, true));
    awaitRawResponse(timeout, -1);
  }

  /**
   * Whether the child's fd 1 reaches EOF (no more responses, no bytes left) within {@code timeout}.
   */
  public boolean awaitResponseEof(Duration timeout) {
    if (!Poll.poll(responses.readFd(), (int) timeout.toMillis()).ready()) {
      return false;
    }
    try (Arena a = Arena.ofConfined()) {
      return Fds.read(responses.readFd(), a.allocate(1), 1) == 0;
    }
  }

  /** Closes the child's fd 0 from our side: a device then sees EOF and should exit 0. */
  public void closeCommands() {
    commands.closeWriteEnd();
  }

  /** Sends {@code signal} to the child, unless it has already been reaped. */
  public void kill(int signal) {
    if (status == null) {
      Processes.kill(pid, signal);
    }
  }

  /**
   * Waits up to {@code timeout} for the child to end, kills what is left of its process group, and
   * reaps it. Any thread (one reaps, the others wait for it: the VMM's device watch and a vCPU
   * naming the device that failed may ask at once).
   *
   * @return how it ended, or empty if it still runs
   */
  public synchronized Optional<WaitStatus> waitFor(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (status == null) {
      if (ProcessGroup.hasEnded(pid)) {
        // Not reaped yet, so the group id is still ours: end whatever the child left behind.
        ProcessGroup.kill(pid, Processes.SIGKILL);
        status = Processes.waitpid(pid, true).orElseThrow();
        break;
      }
      if (System.nanoTime() >= deadline) {
        return Optional.empty();
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Optional.empty();
      }
    }
    return Optional.of(status);
  }

  /**
   * Waits up to {@code timeout} for the child's stderr to end (the child, and anything it started,
   * exited), then returns all of it.
   */
  public String awaitStderrEof(Duration timeout) {
    try {
      stderrThread.join(timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return stderr();
  }

  /** What the child wrote on its stderr so far (see {@link #awaitStderrEof}). */
  public String stderr() {
    return stderr.text();
  }

  /**
   * Closes our pipe ends, kills the child's process group if the child still runs (or what is left
   * of it if not), reaps the child, waits for its stderr.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      commands.close();
      if (status == null && waitFor(Duration.ZERO).isEmpty()) {
        ProcessGroup.kill(pid, Processes.SIGKILL);
        waitFor(Duration.ofSeconds(30));
      }
      stderrThread.join(Duration.ofSeconds(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      responses.close();
      errors.close(); // the collector has seen EOF by now (the child is gone), or gives up
      arena.close();
    }
  }

  private String why() {
    waitFor(Duration.ofMillis(200));
    return (status != null ? " (" + status + ")" : "") + "; its stderr: " + stderr();
  }
}
