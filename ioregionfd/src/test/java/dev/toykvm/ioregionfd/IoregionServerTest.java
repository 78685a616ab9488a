package dev.toykvm.ioregionfd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.ioregionfd.wire.IoregionResponse;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Pipe;
import dev.toykvm.posix.Poll;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class IoregionServerTest {

  /** Per region (user_data): offset -> value; logs every access. */
  static final class Memory implements IoregionHandler {
    final Map<Long, Map<Long, Long>> regions = new HashMap<>();
    final List<String> log = new ArrayList<>();

    @Override
    public long read(long userData, long offset, int size) {
      log.add("R " + userData + " " + offset + " " + size);
      return regions.getOrDefault(userData, Map.of()).getOrDefault(offset, -1L);
    }

    @Override
    public void write(long userData, long offset, int size, long value) {
      log.add("W " + userData + " " + offset + " " + size + " " + Long.toHexString(value));
      regions.computeIfAbsent(userData, k -> new HashMap<>()).put(offset, value);
    }
  }

  private final Arena arena = Arena.ofConfined();
  private final MemorySegment buf = arena.allocate(64, 8);
  private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
  private Pipe commands;
  private Pipe responses;
  private int fdsBefore;

  @BeforeEach
  void open() {
    fdsBefore = Objects.requireNonNull(new File("/proc/self/fd").list()).length;
    commands = Fds.pipe2();
    responses = Fds.pipe2();
  }

  @AfterEach
  void close() {
    commands.close();
    responses.close();
    arena.close();
    assertEquals(fdsBefore, Objects.requireNonNull(new File("/proc/self/fd").list()).length);
  }

  private IoregionServer server;

  private CompletableFuture<Integer> start(IoregionHandler handler) {
    PrintStream log = new PrintStream(logBytes, true, StandardCharsets.UTF_8);
    server = new IoregionServer("dev", handler, commands.readFd(), responses.writeFd(), log);
    CompletableFuture<Integer> result = new CompletableFuture<>();
    Thread t =
        Thread.ofPlatform()
            .name("ioregion-server")
            .start(
                () -> {
                  try {
                    result.complete(server.serve());
                  } catch (Throwable e) {
                    result.completeExceptionally(e);
                  }
                });
    assertTrue(t.isAlive() || result.isDone());
    return result;
  }

  private void send(IoregionCommand c) {
    c.encode(buf);
    Fds.writeFully(commands.writeFd(), buf, IoregionCommand.BYTES);
  }

  private void sendRaw(byte[] bytes) {
    MemorySegment.copy(MemorySegment.ofArray(bytes), 0, buf, 0, bytes.length);
    Fds.writeFully(commands.writeFd(), buf, bytes.length);
  }

  private long response() {
    assertTrue(Poll.poll(responses.readFd(), 10_000).readable(), "no response within 10 s");
    assertEquals(IoregionResponse.BYTES, Fds.readFully(responses.readFd(), buf, 32));
    return IoregionResponse.decode(buf).data();
  }

  private void noResponse() {
    assertFalse(Poll.poll(responses.readFd(), 0).ready(), "an unexpected response");
  }

  private String log() {
    return logBytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void servesReadsAndWritesUntilEof() throws Exception {
    Memory mem = new Memory();
    CompletableFuture<Integer> result = start(mem);
    send(IoregionCommand.write(7, 0x10, 4, 0x11223344L, true));
    assertEquals(0, response(), "a write's response carries 0");
    send(IoregionCommand.read(7, 0x10, 4));
    assertEquals(0x11223344L, response());
    send(IoregionCommand.read(7, 0x20, 2));
    assertEquals(0xffff, response(), "bytes past the size are cleared");
    commands.closeWriteEnd();
    assertEquals(IoregionServer.EXIT_EOF, result.get(10, TimeUnit.SECONDS));
    assertEquals(3, server.accesses());
    assertEquals(2, server.reads());
    assertEquals(1, server.writes());
    assertEquals("", log());
  }

  @Test
  void postedWritesGetNoResponseAndStayInOrder() throws Exception {
    Memory mem = new Memory();
    CompletableFuture<Integer> result = start(mem);
    for (int i = 0; i < 100; i++) {
      send(IoregionCommand.write(1, i, 1, i, false));
    }
    send(IoregionCommand.read(1, 99, 1));
    assertEquals(99, response(), "the read comes after every posted write");
    noResponse();
    commands.closeWriteEnd();
    assertEquals(0, result.get(10, TimeUnit.SECONDS));
    for (int i = 0; i < 100; i++) {
      assertEquals("W 1 " + i + " 1 " + Integer.toHexString(i), mem.log.get(i));
    }
  }

  @Test
  void regionsSharingTheFdsAreToldApartByUserData() throws Exception {
    Memory mem = new Memory();
    CompletableFuture<Integer> result = start(mem);
    send(IoregionCommand.write(0xaa, 0, 8, 0x1111L, true));
    response();
    send(IoregionCommand.write(0xbb, 0, 8, 0x2222L, true));
    response();
    send(IoregionCommand.read(0xaa, 0, 8));
    assertEquals(0x1111L, response());
    send(IoregionCommand.read(0xbb, 0, 8));
    assertEquals(0x2222L, response());
    commands.closeWriteEnd();
    assertEquals(0, result.get(10, TimeUnit.SECONDS));
  }

  @Test
  void garbageEndsTheLoopWithoutAnAnswer() throws Exception {
    CompletableFuture<Integer> result = start(new Memory());
    byte[] bad = new byte[32];
    bad[0] = 7;
    bad[1] = 0x10;
    sendRaw(bad);
    assertEquals(IoregionServer.EXIT_BAD_COMMAND, result.get(10, TimeUnit.SECONDS));
    noResponse();
    assertTrue(
        log().startsWith("dev: cannot decode an ioregionfd command: unknown cmd 0x07"), log());
    assertTrue(log().contains("07 10 00 00 00 00 00 00  00"), log());
  }

  @Test
  void aTruncatedCommandIsAnError() throws Exception {
    CompletableFuture<Integer> result = start(new Memory());
    sendRaw(new byte[] {0, 0x10, 0, 0});
    commands.closeWriteEnd();
    assertEquals(IoregionServer.EXIT_BAD_COMMAND, result.get(10, TimeUnit.SECONDS));
    assertTrue(log().contains("EOF after 4 of its 32 bytes"), log());
  }

  @Test
  void aReadWithoutRespIsAnError() throws Exception {
    CompletableFuture<Integer> result = start(new Memory());
    send(new IoregionCommand(IoregionCommand.Op.READ, 4, false, 0, 0, 0));
    assertEquals(IoregionServer.EXIT_BAD_COMMAND, result.get(10, TimeUnit.SECONDS));
    assertTrue(log().contains("a read without resp"), log());
  }

  @Test
  void aFailingHandlerEndsTheLoopWithoutAnAnswer() throws Exception {
    CompletableFuture<Integer> result =
        start(
            new IoregionHandler() {
              @Override
              public long read(long userData, long offset, int size) {
                throw new IllegalStateException("boom");
              }

              @Override
              public void write(long userData, long offset, int size, long value) {}
            });
    send(IoregionCommand.write(0, 0, 1, 1, true));
    assertEquals(0, response());
    send(IoregionCommand.read(0, 0, 1));
    assertEquals(IoregionServer.EXIT_HANDLER_FAILED, result.get(10, TimeUnit.SECONDS));
    noResponse();
    assertTrue(
        log().startsWith("dev: the device failed on READ size 1 resp user_data 0x0 offset 0x0:"),
        log());
    assertTrue(log().contains("boom"), log());
    assertTrue(log().contains("stopping after 1 accesses"), log());
  }

  @Test
  void aVanishedReaderIsAnIoError() throws Exception {
    responses.closeReadEnd();
    CompletableFuture<Integer> result = start(new Memory());
    send(IoregionCommand.read(0, 0, 4));
    assertEquals(IoregionServer.EXIT_IO_ERROR, result.get(10, TimeUnit.SECONDS));
    assertTrue(log().contains("EPIPE"), log());
  }
}
