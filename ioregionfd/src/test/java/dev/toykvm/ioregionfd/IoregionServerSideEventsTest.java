package dev.toykvm.ioregionfd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.ioregionfd.wire.IoregionResponse;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Pipe;
import dev.toykvm.posix.Poll;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link IoregionServer} waiting for its commands and a device's side events in one poll. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class IoregionServerSideEventsTest {
  private final Arena arena = Arena.ofConfined();
  private final MemorySegment buf = arena.allocate(64, 8);
  private final Pipe commands = Fds.pipe2();
  private final Pipe responses = Fds.pipe2();
  private final int event = Eventfd.create();
  private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
  private final List<String> seen = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    commands.close();
    responses.close();
    Fds.close(event);
    arena.close();
  }

  /** Records what happens, in order: side events, ticks and accesses. */
  private final class Recorder implements SideEvents, IoregionHandler {
    boolean failOnEvent;

    @Override
    public int[] fds() {
      return new int[] {-1, event};
    }

    @Override
    public void ready(int index, int revents) {
      assertEquals(1, index, "the skipped entry is never reported");
      Eventfd.drain(event);
      seen.add("event");
      if (failOnEvent) {
        throw new IllegalStateException("the device broke");
      }
    }

    @Override
    public int timeoutMs() {
      return -1;
    }

    @Override
    public void tick() {}

    @Override
    public long read(long userData, long offset, int size) {
      seen.add("read");
      return 42;
    }

    @Override
    public void write(long userData, long offset, int size, long value) {
      seen.add("write");
    }
  }

  private CompletableFuture<Integer> start(Recorder r) {
    PrintStream log = new PrintStream(logBytes, true, StandardCharsets.UTF_8);
    IoregionServer server =
        new IoregionServer("dev", r, commands.readFd(), responses.writeFd(), log, r);
    CompletableFuture<Integer> result = new CompletableFuture<>();
    Thread.ofPlatform()
        .start(
            () -> {
              try {
                result.complete(server.serve());
              } catch (Throwable e) {
                result.completeExceptionally(e);
              }
            });
    return result;
  }

  private long read() {
    IoregionCommand.read(0, 0, 8).encode(buf);
    Fds.writeFully(commands.writeFd(), buf, IoregionCommand.BYTES);
    assertTrue(Poll.poll(responses.readFd(), 10_000).readable());
    assertEquals(IoregionResponse.BYTES, Fds.readFully(responses.readFd(), buf, 32));
    return IoregionResponse.decode(buf).data();
  }

  @Test
  void anEventSignalledBeforeACommandIsHandledBeforeIt() throws Exception {
    CompletableFuture<Integer> result = start(new Recorder());
    assertEquals(42, read());
    Eventfd.signal(event);
    assertEquals(42, read());
    commands.closeWriteEnd();
    assertEquals(IoregionServer.EXIT_EOF, result.get(10, TimeUnit.SECONDS));
    assertEquals(List.of("read", "event", "read"), seen);
  }

  @Test
  void aSideEventThatThrowsStopsTheServerAsAHandlerFailure() throws Exception {
    Recorder r = new Recorder();
    r.failOnEvent = true;
    CompletableFuture<Integer> result = start(r);
    Eventfd.signal(event);
    assertEquals(IoregionServer.EXIT_HANDLER_FAILED, result.get(10, TimeUnit.SECONDS));
    assertTrue(
        logBytes.toString(StandardCharsets.UTF_8).contains("the device failed"),
        logBytes.toString(StandardCharsets.UTF_8));
  }
}
