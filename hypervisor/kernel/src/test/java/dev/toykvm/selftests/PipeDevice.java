package dev.toykvm.selftests;

import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Pipe;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A device at the other end of an ioregion's pipes, on a thread of the test JVM, with full control
 * over what it answers: it records every command and answers through {@code responder}, which
 * returns the 32 response bytes to send (or null to send nothing).
 */
final class PipeDevice implements AutoCloseable {
  /** Commands flow kernel -> device on this pipe; the kernel writes {@link #kernelWriteFd()}. */
  final Pipe commands = Fds.pipe2();

  /** Responses flow device -> kernel; the kernel reads {@link #kernelReadFd()}. */
  final Pipe responses = Fds.pipe2();

  final List<IoregionCommand> received = new CopyOnWriteArrayList<>();

  /** How many answers have been written (whole, as the responder gave them). */
  final AtomicInteger answered = new AtomicInteger();

  private final Function<IoregionCommand, byte[]> responder;
  private final Thread thread;
  private volatile boolean closed;

  /** Answers every command that wants a response with {@code value.apply(command)}. */
  static PipeDevice answering(Function<IoregionCommand, Long> value) {
    return new PipeDevice(c -> c.resp() ? response(value.apply(c)) : null);
  }

  static byte[] response(long data) {
    byte[] b = new byte[32];
    for (int i = 0; i < 8; i++) {
      b[i] = (byte) (data >>> (8 * i));
    }
    return b;
  }

  PipeDevice(Function<IoregionCommand, byte[]> responder) {
    this.responder = responder;
    this.thread = Thread.ofPlatform().daemon().name("pipe-device").start(this::serve);
  }

  int kernelWriteFd() {
    return commands.writeFd();
  }

  int kernelReadFd() {
    return responses.readFd();
  }

  private void serve() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(32);
      while (!closed) {
        long n = Fds.readFully(commands.readFd(), buf, 32);
        if (n < 32) {
          return;
        }
        IoregionCommand c = IoregionCommand.decode(buf);
        received.add(c);
        byte[] answer = responder.apply(c);
        if (answer != null && answer.length > 0) {
          MemorySegment out = arena.allocate(answer.length);
          out.copyFrom(MemorySegment.ofArray(answer));
          Fds.writeFully(responses.writeFd(), out, answer.length);
          answered.incrementAndGet();
        }
      }
    } catch (RuntimeException e) {
      // The pipes were closed under us: the test is over or simulates a dead device.
    }
  }

  /** Simulates the device dying: closes the device's ends of both pipes. */
  void die() {
    closed = true;
    commands.closeReadEnd();
    responses.closeWriteEnd();
  }

  @Override
  public void close() throws InterruptedException {
    closed = true;
    commands.close();
    responses.close();
    thread.join(2000);
  }
}
