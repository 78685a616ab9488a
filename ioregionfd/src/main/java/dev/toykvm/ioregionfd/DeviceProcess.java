package dev.toykvm.ioregionfd;

import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.ioregionfd.wire.IoregionResponse;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Pipe;
import dev.toykvm.posix.Poll;
import dev.toykvm.posix.PosixException;
import dev.toykvm.posix.Processes;
import dev.toykvm.posix.WaitStatus;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A device program in a child process, wired the ioregionfd way: commands go to its fd 0, responses
 * come from its fd 1, and its fd 2 is collected here ({@link #stderr()}). Any program that speaks
 * the wire protocol will do: a device JVM, a C program.
 *
 * <p>Owns the child and three pipe ends: {@link #close()} closes them, kills the child if it still
 * runs, reaps it and waits for the stderr collector, so nothing outlives it. The child should be
 * started from a thread that lives as long as it ({@code PR_SET_PDEATHSIG} follows the parent
 * thread).
 *
 * <p>Not thread-safe, except {@link #stderr()}.
 */
public final class DeviceProcess implements AutoCloseable {
  private final int pid;
  private final Pipe commands;
  private final Pipe responses;
  private final Pipe errors;
  private final Thread stderrCollector;
  private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
  private final Consumer<String> stderrLines;
  private final StringBuilder partialLine = new StringBuilder();

  /** How much of the child's stderr {@link #stderr()} keeps (the most recent part). */
  private static final int STDERR_KEPT = 64 * 1024;

  private final Arena arena = Arena.ofShared();
  private final MemorySegment buf = arena.allocate(IoregionCommand.BYTES, 8);
  private final MemorySegment pollfds = arena.allocate(Poll.POLLFD_BYTES, 8);
  private WaitStatus status;
  private boolean closed;

  private DeviceProcess(List<String> argv, Consumer<String> stderrLines, int[] extraFds) {
    this.stderrLines = stderrLines;
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
      pid = Processes.spawnp(argv, childFds);
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
    int errFd = e.readFd();
    stderrCollector =
        Thread.ofPlatform().daemon().name("stderr of pid " + pid).start(() -> collect(errFd));
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
   * collector thread).
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

  /**
   * Reads one response from the child's fd 1.
   *
   * @throws IllegalStateException if none arrives within {@code timeout}, or the child's fd 1 ends
   *     before a whole response (the message includes the child's stderr)
   */
  public IoregionResponse awaitResponse(Duration timeout) {
    // Allocation-free: this is the VMM route's hot path (RemoteDevice).
    Poll.setPollfd(pollfds, 0, responses.readFd(), Poll.POLLIN);
    if (Poll.poll(pollfds, 1, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis())) == 0) {
      throw new IllegalStateException(
          "cannot read a response from pid " + pid + ": none within " + timeout + why());
    }
    long n = Fds.readFully(responses.readFd(), buf, IoregionResponse.BYTES);
    if (n != IoregionResponse.BYTES) {
      throw new IllegalStateException(
          "cannot read a response from pid " + pid + ": EOF after " + n + " bytes" + why());
    }
    return IoregionResponse.decode(buf);
  }

  /** Sends a read and returns the value of its response. */
  public long read(long userData, long offset, int size, Duration timeout) {
    send(IoregionCommand.read(userData, offset, size));
    return awaitResponse(timeout).data();
  }

  /** Sends a write that waits for its response. */
  public void write(long userData, long offset, int size, long value, Duration timeout) {
    send(IoregionCommand.write(userData, offset, size, value, true));
    long data = awaitResponse(timeout).data();
    if (data != 0) {
      throw new IllegalStateException(
          "cannot complete a write: pid " + pid + " answered it with " + data + ", not 0");
    }
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
   * Waits up to {@code timeout} for the child to end, and reaps it.
   *
   * @return how it ended, or empty if it still runs
   */
  public Optional<WaitStatus> waitFor(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (status == null) {
      Optional<WaitStatus> s = Processes.waitpid(pid, false);
      if (s.isPresent()) {
        status = s.get();
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
      stderrCollector.join(timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return stderr();
  }

  /** What the child wrote on its stderr so far (see {@link #awaitStderrEof}). */
  public String stderr() {
    synchronized (stderr) {
      return stderr.toString(StandardCharsets.UTF_8);
    }
  }

  /** Closes our pipe ends, kills the child if it still runs, reaps it, waits for its stderr. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      commands.close();
      if (status == null && waitFor(Duration.ZERO).isEmpty()) {
        Processes.kill(pid, Processes.SIGKILL);
        waitFor(Duration.ofSeconds(30));
      }
      stderrCollector.join(Duration.ofSeconds(10));
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

  private void collect(int fd) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment chunk = a.allocate(4096);
      while (true) {
        long n = Fds.read(fd, chunk, chunk.byteSize());
        if (n <= 0) {
          return;
        }
        byte[] bytes = chunk.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
        synchronized (stderr) {
          if (stderr.size() + bytes.length > STDERR_KEPT) {
            byte[] old = stderr.toByteArray();
            stderr.reset();
            int keep = Math.max(0, STDERR_KEPT / 2 - bytes.length);
            stderr.write(old, Math.max(0, old.length - keep), Math.min(keep, old.length));
          }
          stderr.writeBytes(bytes);
        }
        forwardLines(new String(bytes, StandardCharsets.UTF_8));
      }
    } catch (PosixException e) {
      // The fd was closed under us by close(): nothing more to collect.
    }
    if (!partialLine.isEmpty()) {
      stderrLines.accept(partialLine.toString());
    }
  }

  private void forwardLines(String text) {
    for (int i = 0; i < text.length(); i++) {
      char ch = text.charAt(i);
      if (ch == '\n') {
        stderrLines.accept(partialLine.toString());
        partialLine.setLength(0);
      } else {
        partialLine.append(ch);
      }
    }
  }
}
