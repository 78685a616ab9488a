package dev.toykvm.ioregionfd;

import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.ioregionfd.wire.IoregionResponse;
import dev.toykvm.ioregionfd.wire.WireFormatException;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Poll;
import dev.toykvm.posix.PosixException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The device side of ioregionfd: reads commands from one fd, runs them on an {@link
 * IoregionHandler}, and writes a response to another fd whenever the command asks for one (a read's
 * value; 0 for a write).
 *
 * <p>{@link #serve()} returns when the command fd reaches EOF (the kernel side closed it: the
 * normal end) with {@link #EXIT_EOF}, or on the first failure, which it logs and returns as a
 * non-zero status: a malformed or truncated command ({@link #EXIT_BAD_COMMAND}), a handler that
 * threw ({@link #EXIT_HANDLER_FAILED}), an fd error such as EPIPE on the response fd ({@link
 * #EXIT_IO_ERROR}). It never answers a command it did not understand: the kernel side then sees EOF
 * or EPIPE rather than a made-up value.
 *
 * <p>Several regions may share the fds; the handler tells them apart by {@code user_data}.
 *
 * <p>Runs on the calling thread (a platform thread: the reads block); the access counters may be
 * read from any thread. The loop allocates nothing per access beyond the decoded command record.
 */
public final class IoregionServer {

  /** The command fd reached EOF between commands. */
  public static final int EXIT_EOF = 0;

  /** A command did not decode, was cut short by EOF, or was a read without {@code resp}. */
  public static final int EXIT_BAD_COMMAND = 2;

  /** The handler threw. */
  public static final int EXIT_HANDLER_FAILED = 3;

  /** Reading a command or writing a response failed (e.g. EPIPE, EBADF). */
  public static final int EXIT_IO_ERROR = 4;

  private final String name;
  private final IoregionHandler handler;
  private final int commandFd;
  private final int responseFd;
  private final PrintStream log;
  private final SideEvents side;
  private volatile long reads;
  private volatile long writes;

  /**
   * @param name what the log calls the device, e.g. {@code "testdev"}
   * @param handler the device
   * @param commandFd where commands come from (a device process's fd 0)
   * @param responseFd where responses go (a device process's fd 1)
   * @param log where failures are reported, one line each, prefixed with {@code name}; never the
   *     response fd
   */
  public IoregionServer(
      String name, IoregionHandler handler, int commandFd, int responseFd, PrintStream log) {
    this(name, handler, commandFd, responseFd, log, null);
  }

  /**
   * A server that also waits for {@code side}'s fds and deadline: before each read of the command
   * fd it polls the command fd and {@code side.fds()} together, hands each ready side fd to {@code
   * side.ready}, calls {@code side.tick()}, and reads commands only once the command fd is
   * readable. Without side events ({@code null}) it blocks in {@code read(2)} directly, one system
   * call fewer per access.
   */
  public IoregionServer(
      String name,
      IoregionHandler handler,
      int commandFd,
      int responseFd,
      PrintStream log,
      SideEvents side) {
    this.name = name;
    this.handler = handler;
    this.commandFd = commandFd;
    this.responseFd = responseFd;
    this.log = log;
    this.side = side;
  }

  /**
   * Serves commands until EOF or the first failure.
   *
   * @return {@link #EXIT_EOF} after a clean EOF, else one of the other {@code EXIT_} statuses
   */
  /** Bytes read from the command fd at once: 128 commands. */
  private static final long READ_BUFFER = 4096;

  public int serve() {
    try (Arena arena = Arena.ofConfined()) {
      // Commands are read in bulk: a kernel side that batches posted writes sends many at once.
      MemorySegment buffer = arena.allocate(READ_BUFFER, 8);
      MemorySegment out = arena.allocate(IoregionResponse.BYTES, 8);
      MemorySegment pollfds = null;
      long pos = 0;
      long filled = 0;
      while (true) {
        if (filled - pos < IoregionCommand.BYTES) {
          if (pos > 0) {
            MemorySegment.copy(buffer, pos, buffer, 0, filled - pos);
            filled -= pos;
            pos = 0;
          }
          long n;
          try {
            if (side != null) {
              pollfds = awaitCommands(arena, pollfds);
            }
            n = Fds.read(commandFd, buffer.asSlice(filled), READ_BUFFER - filled);
            if (n > 0 && side != null && side.ordered()) {
              pollfds = drainSide(arena, pollfds);
            }
          } catch (SideFailure e) {
            int status = fail(EXIT_HANDLER_FAILED, "the device failed: " + e.getCause());
            e.getCause().printStackTrace(log);
            return status;
          } catch (PosixException e) {
            return fail(EXIT_IO_ERROR, "cannot read a command: " + e.getMessage());
          }
          if (n == 0) {
            if (filled == 0) {
              return EXIT_EOF;
            }
            return fail(
                EXIT_BAD_COMMAND,
                "cannot read a command: EOF after "
                    + filled
                    + " of its "
                    + IoregionCommand.BYTES
                    + " bytes");
          }
          filled += n;
          continue;
        }
        MemorySegment in = buffer.asSlice(pos, IoregionCommand.BYTES);
        pos += IoregionCommand.BYTES;
        IoregionCommand cmd;
        try {
          cmd = IoregionCommand.decode(in);
        } catch (WireFormatException e) {
          return fail(EXIT_BAD_COMMAND, e.getMessage() + " (bytes: " + hex(in) + ")");
        }
        long data;
        if (cmd.op() == IoregionCommand.Op.READ) {
          if (!cmd.resp()) {
            return fail(
                EXIT_BAD_COMMAND,
                "cannot serve " + cmd + ": a read without resp (nobody would get the value)");
          }
          try {
            data = handler.read(cmd.userData(), cmd.offset(), cmd.size()) & mask(cmd.size());
          } catch (RuntimeException e) {
            return handlerFailed(cmd, e);
          }
          reads++;
        } else {
          try {
            handler.write(cmd.userData(), cmd.offset(), cmd.size(), cmd.value());
          } catch (RuntimeException e) {
            return handlerFailed(cmd, e);
          }
          writes++;
          data = 0;
        }
        if (cmd.resp()) {
          IoregionResponse.encode(out, data);
          try {
            Fds.writeFully(responseFd, out, IoregionResponse.BYTES);
          } catch (PosixException e) {
            return fail(EXIT_IO_ERROR, "cannot answer " + cmd + ": " + e.getMessage());
          }
        }
      }
    }
  }

  /**
   * Waits until the command fd is readable (or hung up), serving the side events meanwhile.
   *
   * @return the {@code struct pollfd} array, grown if the side has more fds than it held
   */
  private MemorySegment awaitCommands(Arena arena, MemorySegment pollfds) {
    while (true) {
      int[] fds;
      int timeoutMs;
      try {
        fds = side.fds();
        timeoutMs = side.timeoutMs();
      } catch (RuntimeException e) {
        throw new SideFailure(e);
      }
      if (pollfds == null || pollfds.byteSize() < (fds.length + 1) * Poll.POLLFD_BYTES) {
        pollfds = arena.allocate((fds.length + 1 + 8) * Poll.POLLFD_BYTES, 8);
      }
      Poll.setPollfd(pollfds, 0, commandFd, Poll.POLLIN);
      for (int i = 0; i < fds.length; i++) {
        Poll.setPollfd(pollfds, i + 1, fds[i], Poll.POLLIN); // poll(2) skips a negative fd
      }
      Poll.poll(pollfds, fds.length + 1, timeoutMs);
      try {
        for (int i = 0; i < fds.length; i++) {
          int revents = Poll.revents(pollfds, i + 1);
          if (fds[i] >= 0 && revents != 0) {
            side.ready(i, revents);
          }
        }
        side.tick();
      } catch (RuntimeException e) {
        throw new SideFailure(e);
      }
      if (Poll.revents(pollfds, 0) != 0) {
        return pollfds;
      }
    }
  }

  /**
   * Hands every side fd that is ready now to the side, without waiting: messages ordered with the
   * commands that were written before the commands just read ({@link SideEvents#ordered()}).
   */
  private MemorySegment drainSide(Arena arena, MemorySegment pollfds) {
    int[] fds;
    try {
      fds = side.fds();
    } catch (RuntimeException e) {
      throw new SideFailure(e);
    }
    if (pollfds == null || pollfds.byteSize() < (fds.length + 1) * Poll.POLLFD_BYTES) {
      pollfds = arena.allocate((fds.length + 1 + 8) * Poll.POLLFD_BYTES, 8);
    }
    for (int i = 0; i < fds.length; i++) {
      Poll.setPollfd(pollfds, i, fds[i], Poll.POLLIN);
    }
    if (Poll.poll(pollfds, fds.length, 0) <= 0) {
      return pollfds;
    }
    try {
      for (int i = 0; i < fds.length; i++) {
        int revents = Poll.revents(pollfds, i);
        if (fds[i] >= 0 && revents != 0) {
          side.ready(i, revents);
        }
      }
    } catch (RuntimeException e) {
      throw new SideFailure(e);
    }
    return pollfds;
  }

  /** A side event's handler threw: the device failed, as when a handler throws. */
  private static final class SideFailure extends RuntimeException {
    SideFailure(RuntimeException cause) {
      super(cause);
    }
  }

  /** The reads served so far. */
  public long reads() {
    return reads;
  }

  /** The writes served so far (posted or not). */
  public long writes() {
    return writes;
  }

  /** All accesses served so far. */
  public long accesses() {
    return reads + writes;
  }

  private int handlerFailed(IoregionCommand cmd, RuntimeException e) {
    int status = fail(EXIT_HANDLER_FAILED, "the device failed on " + cmd + ": " + e);
    e.printStackTrace(log);
    return status;
  }

  private int fail(int status, String message) {
    log.println(name + ": " + message + "; stopping after " + accesses() + " accesses");
    log.flush();
    return status;
  }

  private static long mask(int size) {
    return IoregionCommand.mask(size);
  }

  private static String hex(MemorySegment s) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < IoregionCommand.BYTES; i++) {
      if (i > 0) {
        b.append(i % 8 == 0 ? "  " : " ");
      }
      b.append(String.format("%02x", s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i)));
    }
    return b.toString();
  }
}
