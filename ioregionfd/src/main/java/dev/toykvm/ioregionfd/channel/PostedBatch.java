package dev.toykvm.ioregionfd.channel;

import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.posix.Errnos;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Poll;
import dev.toykvm.posix.PosixException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One vCPU's posted writes on their way to one command fd, sent together: a posted write does not
 * wait for the device, so the kernel side may hand the device several in one {@code write}, in
 * order, instead of paying a system call and a wake-up of the device for each.
 *
 * <p>The caller flushes before anything the guest could use to observe the device (another access
 * to a device, an ioeventfd, an exit to the VMM, the end of {@code run()}) and when the batch is
 * {@link #due}: the oldest write has waited {@link #MAX_DELAY_NANOS}, or the guest has added none
 * for {@link #IDLE_NANOS} (it has stopped writing: a doorbell followed by a poll of memory, which
 * is no device access, must not wait the whole delay). The kernel side also flushes as soon as the
 * guest loops without writing (its {@code SpinWatch}). So the device sees every posted write in
 * order, late by at most {@link #MAX_DELAY_NANOS} in a burst and {@link #IDLE_NANOS} after one. A
 * batch is at most {@link #MAX_COMMANDS} commands, 4 KiB, which a pipe takes atomically ({@code
 * PIPE_BUF}).
 */
public final class PostedBatch {
  /** Commands per batch. */
  public static final int MAX_COMMANDS = 128;

  /** How long a posted write may wait in the batch. */
  public static final long MAX_DELAY_NANOS = 50_000;

  /**
   * How long a batch waits for another write: a burst of posted writes comes well inside it (the
   * benchmark's loop adds one every 0.1-0.2 us), a lone doorbell goes after it.
   */
  public static final long IDLE_NANOS = 5_000;

  private final Arena arena = Arena.ofShared();
  private final MemorySegment buffer = arena.allocate(MAX_COMMANDS * IoregionCommand.BYTES, 8);
  private final KickableWait wait;
  private final long timeoutNanos;
  private int count;
  private int writeFd = -1;
  private long oldest;
  private long newest;
  private Object owner;
  private String failure;
  private int failureErrno;

  /**
   * @param kickFd the vCPU's kick eventfd
   * @param timeoutNanos how long a flush may wait for room in the pipe
   */
  public PostedBatch(int kickFd, long timeoutNanos) {
    this.wait = new KickableWait(kickFd);
    this.timeoutNanos = timeoutNanos;
  }

  /** Whether commands wait to be sent. */
  public boolean isEmpty() {
    return count == 0;
  }

  /** The fd the waiting commands go to, or -1. */
  public int writeFd() {
    return writeFd;
  }

  /** What the caller attached to the last command added (e.g. its region), for reports. */
  public Object owner() {
    return owner;
  }

  /**
   * Whether the batch should go now: the oldest command has waited {@link #MAX_DELAY_NANOS}, or the
   * newest {@link #IDLE_NANOS}.
   */
  public boolean due(long now) {
    return count > 0 && (now - oldest >= MAX_DELAY_NANOS || now - newest >= IDLE_NANOS);
  }

  /** Whether the guest has added no command for {@link #IDLE_NANOS}: it has stopped writing. */
  public boolean idle(long now) {
    return count > 0 && now - newest >= IDLE_NANOS;
  }

  /** Whether {@code cmd} can be added without a flush first (same fd, room left). */
  public boolean accepts(int fd) {
    return count == 0 || (fd == writeFd && count < MAX_COMMANDS);
  }

  /** Adds a command now; the caller checked {@link #accepts} (and flushed otherwise). */
  public void add(int fd, IoregionCommand cmd, Object owner) {
    add(fd, cmd, owner, System.nanoTime());
  }

  /** Adds a command at time {@code now} ({@link System#nanoTime()}). */
  public void add(int fd, IoregionCommand cmd, Object owner, long now) {
    if (!accepts(fd)) {
      throw new IllegalStateException("flush the posted writes to fd " + writeFd + " first");
    }
    if (count == 0) {
      writeFd = fd;
      oldest = now;
    }
    newest = now;
    cmd.encode(buffer.asSlice((long) count * IoregionCommand.BYTES, IoregionCommand.BYTES));
    count++;
    this.owner = owner;
  }

  /** Whether the batch is full. */
  public boolean full() {
    return count == MAX_COMMANDS;
  }

  /**
   * Sends every waiting command in one write, waiting (bounded, interruptible by a kick) for room
   * in the pipe. After {@code INTERRUPTED} call it again to go on; after {@code FAILED} the
   * commands are dropped and {@link #failure()} says why.
   */
  public AccessResult flush() {
    if (count == 0) {
      return AccessResult.DONE;
    }
    long bytes = (long) count * IoregionCommand.BYTES;
    long deadline = System.nanoTime() + timeoutNanos;
    try {
      while (true) {
        long n;
        try {
          n = Fds.write(writeFd, buffer, bytes);
        } catch (PosixException e) {
          if (e.errno() != Errnos.EAGAIN) {
            return fail(
                Errnos.EIO, "cannot send posted writes to fd " + writeFd + ": " + e.getMessage());
          }
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return fail(
                Errnos.EAGAIN,
                "the device read no posted write from fd "
                    + writeFd
                    + " within "
                    + timeoutNanos / 1_000_000
                    + " ms (its pipe is full)");
          }
          switch (wait.await(writeFd, Poll.POLLOUT, deadline)) {
            case READY -> {}
            case KICKED -> {
              return AccessResult.INTERRUPTED;
            }
            case TIMED_OUT -> {} // said above, on the next turn
            case CLOSED, NOT_OPEN -> {
              return fail(Errnos.EIO, "the device closed its end of write fd " + writeFd);
            }
          }
          continue;
        }
        if (n != bytes) {
          return fail(
              Errnos.EIO, "short write of " + n + " of " + bytes + " bytes to fd " + writeFd);
        }
        count = 0;
        return AccessResult.DONE;
      }
    } catch (PosixException e) {
      return fail(Errnos.EIO, e.getMessage());
    }
  }

  /** Why the last flush failed. */
  public String failure() {
    return failure;
  }

  /** The errno of the last failure: EIO, or EAGAIN for a pipe that stayed full. */
  public int failureErrno() {
    return failureErrno;
  }

  private AccessResult fail(int errno, String why) {
    failureErrno = errno;
    failure = why;
    count = 0;
    return AccessResult.FAILED;
  }

  /** Frees the buffer. */
  public void close() {
    wait.close();
    arena.close();
  }
}
