package dev.toykvm.ioregionfd.channel;

import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.ioregionfd.wire.IoregionResponse;
import dev.toykvm.posix.Errnos;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Poll;
import dev.toykvm.posix.PosixException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * One vCPU's access in flight to an ioregion, on the kernel side: acquire the read fd's context,
 * send the 32-byte command, wait for the 32-byte response.
 *
 * <p>Every wait also watches the vCPU's kick eventfd: a kick makes {@link #run} return {@link
 * AccessResult#INTERRUPTED} with the access saved in its current phase, and the next {@link #run}
 * goes on from there, so nothing is sent twice and no response is lost (the RFC's saved {@code
 * SEND_CMD}/{@code GET_REPLY} state). Every wait is bounded by the timeout: a device that stalls
 * gives {@link AccessResult#FAILED} with {@code EAGAIN}, never a hung vCPU.
 *
 * <p>One instance per vCPU, reused for each access, used by that vCPU's engine thread only.
 */
public final class IoregionAccess {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(IoregionAccess.class);

  /** Where an access is. */
  public enum Phase {
    IDLE,
    ACQUIRE,
    SEND,
    RECEIVE
  }

  private final Arena arena = Arena.ofShared();
  private final MemorySegment command = arena.allocate(IoregionCommand.BYTES, 8);
  private final MemorySegment response = arena.allocate(IoregionResponse.BYTES, 8);
  private final KickableWait wait;
  private final long timeoutNanos;

  private Phase phase = Phase.IDLE;
  private FdContext context;
  private int writeFd;
  private boolean wantsResponse;
  private boolean paddingSeen;
  private int received;
  private long value;
  private int failureErrno;
  private String failure;

  /**
   * @param kickFd the vCPU's kick eventfd (signalled by a kick)
   * @param timeoutNanos how long any one wait may last
   */
  public IoregionAccess(int kickFd, long timeoutNanos) {
    this.wait = new KickableWait(kickFd);
    this.timeoutNanos = timeoutNanos;
  }

  /** Starts an access; {@link #run} does it. */
  public void start(FdContext context, int writeFd, IoregionCommand cmd) {
    if (phase != Phase.IDLE) {
      throw new IllegalStateException("an ioregion access is already in flight");
    }
    this.context = context;
    this.writeFd = writeFd;
    this.wantsResponse = cmd.resp();
    cmd.encode(command);
    received = 0;
    value = 0;
    failure = null;
    failureErrno = 0;
    phase = wantsResponse ? Phase.ACQUIRE : Phase.SEND;
  }

  public Phase phase() {
    return phase;
  }

  /** The value of a completed read. */
  public long value() {
    return value;
  }

  /** Why the access failed. */
  public String failure() {
    return failure;
  }

  /** The errno of the failure: EIO (EOF, short or failed I/O), EAGAIN (timeout), EINVAL. */
  public int failureErrno() {
    return failureErrno;
  }

  /** Whether the command has been written (so the device will see or has seen it). */
  public boolean commandSent() {
    return phase == Phase.RECEIVE || phase == Phase.IDLE;
  }

  /**
   * Runs the access from where it stands until it is done, interrupted or failed.
   *
   * @param kicked whether the vCPU has been kicked (checked while waiting for the context)
   */
  public AccessResult run(BooleanSupplier kicked) {
    long deadline = System.nanoTime() + timeoutNanos;
    try {
      while (true) {
        switch (phase) {
          case IDLE -> {
            return AccessResult.DONE;
          }
          case ACQUIRE -> {
            AccessResult r = acquire(kicked, deadline);
            if (r != null) {
              return r;
            }
            phase = Phase.SEND;
          }
          case SEND -> {
            AccessResult r = send(deadline);
            if (r != null) {
              return r;
            }
            if (!wantsResponse) {
              phase = Phase.IDLE;
              return AccessResult.DONE;
            }
            phase = Phase.RECEIVE;
          }
          case RECEIVE -> {
            AccessResult r = receive(deadline);
            if (r != null) {
              return r;
            }
            finish();
            return AccessResult.DONE;
          }
        }
      }
    } catch (PosixException e) {
      return fail(Errnos.EIO, e.getMessage());
    }
  }

  /**
   * Gives up the access (its region went away while it was interrupted): releases the context, and
   * if the command was sent, makes the next access on the fd drop the late response.
   */
  public void abandon() {
    if (phase == Phase.RECEIVE) {
      context.addStaleResponse();
    }
    release();
    phase = Phase.IDLE;
  }

  private AccessResult acquire(BooleanSupplier kicked, long deadline) {
    while (!context.tryAcquire(this)) {
      if (kicked.getAsBoolean()) {
        return AccessResult.INTERRUPTED;
      }
      if (System.nanoTime() - deadline > 0) {
        return fail(
            Errnos.EAGAIN,
            "read fd "
                + context.readFd()
                + " stayed busy with another vCPU's access past the timeout");
      }
      LockSupport.parkNanos(20_000);
    }
    while (context.staleResponses() > 0) {
      AccessResult r = await(context.readFd(), Poll.POLLIN, deadline, "a late response");
      if (r != null) {
        return r;
      }
      long n = Fds.read(context.readFd(), response, IoregionResponse.BYTES);
      if (n <= 0) {
        return fail(Errnos.EIO, "read fd " + context.readFd() + " reached EOF");
      }
      context.dropStaleResponse();
    }
    return null;
  }

  private AccessResult send(long deadline) {
    while (true) {
      long n;
      try {
        // Usually the pipe has room: one write. The kernel side's command fd is non-blocking
        // where it can be; a blocking one only blocks on a full pipe, after the poll below.
        n = Fds.write(writeFd, command, IoregionCommand.BYTES);
      } catch (PosixException e) {
        if (e.errno() != Errnos.EAGAIN) {
          throw e;
        }
        AccessResult r = await(writeFd, Poll.POLLOUT, deadline, "room to send the command");
        if (r != null) {
          return r;
        }
        continue;
      }
      if (n != IoregionCommand.BYTES) {
        return fail(Errnos.EIO, "short write of " + n + " bytes to fd " + writeFd);
      }
      return null;
    }
  }

  private AccessResult receive(long deadline) {
    int fd = context.readFd();
    while (received < IoregionResponse.BYTES) {
      AccessResult r = await(fd, Poll.POLLIN, deadline, "the response");
      if (r != null) {
        return r;
      }
      long n = Fds.read(fd, response.asSlice(received), IoregionResponse.BYTES - received);
      if (n == 0) {
        return fail(
            Errnos.EIO,
            received == 0
                ? "the device closed read fd " + fd + " (EOF)"
                : "short response: EOF after " + received + " of 32 bytes on fd " + fd);
      }
      received += (int) n;
    }
    value = IoregionResponse.decode(response).data();
    if (!paddingSeen && IoregionResponse.hasPadding(response)) {
      paddingSeen = true;
      log.debug("fd {}: a response with non-zero padding (ignored, as the RFC does)", fd);
    }
    return null;
  }

  /**
   * Waits until {@code fd} is ready for {@code events}, or a kick, or the deadline. Returns null
   * when ready.
   */
  private AccessResult await(int fd, int events, long deadline, String what) {
    return switch (wait.await(fd, events, deadline)) {
      case READY -> null;
      case KICKED -> AccessResult.INTERRUPTED;
      case TIMED_OUT ->
          fail(
              Errnos.EAGAIN,
              "waited "
                  + timeoutNanos / 1_000_000
                  + " ms for "
                  + what
                  + " on fd "
                  + fd
                  + " (the device stalls)");
      case NOT_OPEN -> fail(Errnos.EIO, "fd " + fd + " is not open");
      case CLOSED ->
          fail(
              Errnos.EIO,
              events == Poll.POLLOUT
                  ? "the device closed its end of write fd " + fd
                  : "the device closed its end of read fd " + fd + " (EOF)");
    };
  }

  private void finish() {
    release();
    phase = Phase.IDLE;
  }

  private AccessResult fail(int errno, String why) {
    failureErrno = errno;
    failure = why;
    if (phase == Phase.RECEIVE) {
      context.addStaleResponse();
    }
    release();
    phase = Phase.IDLE;
    return AccessResult.FAILED;
  }

  private void release() {
    if (context != null) {
      context.release(this);
    }
  }

  /** Frees the buffers. */
  public void close() {
    wait.close();
    arena.close();
  }
}
