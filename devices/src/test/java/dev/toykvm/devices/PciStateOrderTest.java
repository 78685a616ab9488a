package dev.toykvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.devices.pci.PciState;
import dev.toykvm.devices.pci.PciStatePipe;
import dev.toykvm.ioregionfd.IoregionServer;
import dev.toykvm.ioregionfd.SideEvents;
import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Pipe;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The PCI state pipe beside the commands: messages applied whole and in order, garbage refused, and
 * a state written before a command applied before that command even when both arrive in one wait.
 */
class PciStateOrderTest {
  private static final PciState MASTER = new PciState(true, false, false, false);
  private static final PciState MSIX = new PciState(true, true, true, false);

  private final Pipe state = Fds.pipe2();
  private final Pipe commands = Fds.pipe2();
  private final Pipe responses = Fds.pipe2();
  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private final PrintStream logStream = new PrintStream(log, true, StandardCharsets.UTF_8);

  @AfterEach
  void close() {
    state.close();
    commands.close();
    responses.close();
  }

  private static void send(int fd, byte[] bytes) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment seg = a.allocate(bytes.length);
      MemorySegment.copy(MemorySegment.ofArray(bytes), 0, seg, 0, bytes.length);
      Fds.writeFully(fd, seg, bytes.length);
    }
  }

  private void command(IoregionCommand c) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment seg = a.allocate(IoregionCommand.BYTES);
      c.encode(seg);
      Fds.writeFully(commands.writeFd(), seg, IoregionCommand.BYTES);
    }
  }

  @Test
  void theNewestOfThePendingMessagesIsAppliedOnce() {
    List<PciState> applied = new ArrayList<>();
    PciStatePipe pipe = new PciStatePipe(state.readFd(), applied::add);
    assertEquals(PciState.RESET, pipe.current());
    send(state.writeFd(), MASTER.encode());
    send(state.writeFd(), MSIX.encode());
    assertTrue(pipe.drain());
    assertEquals(List.of(MSIX), applied, "the state is sent whole: the last one wins");
    assertEquals(2, pipe.messages());
    state.closeWriteEnd();
    assertFalse(pipe.drain(), "EOF: the VMM is gone");
    assertEquals(-1, pipe.fd(), "never polled again");
  }

  @Test
  void garbageIsNeverApplied() {
    List<PciState> applied = new ArrayList<>();
    PciStatePipe pipe = new PciStatePipe(state.readFd(), applied::add);
    byte[] bad = MASTER.encode();
    bad[0] = 'X';
    send(state.writeFd(), MSIX.encode());
    send(state.writeFd(), bad);
    IllegalStateException e = assertThrows(IllegalStateException.class, pipe::drain);
    assertTrue(e.getMessage().contains("not a PCI state message"), e.getMessage());
    assertTrue(e.getMessage().contains("the VMM is broken"), e.getMessage());
    send(state.writeFd(), new byte[5]);
    e = assertThrows(IllegalStateException.class, pipe::drain);
    assertTrue(e.getMessage().contains("5 bytes on the pipe"), e.getMessage());
    assertEquals(List.of(), applied);
  }

  /** A device that records the state each access saw. */
  private static final class Recorder implements BusDevice {
    PciState state = PciState.RESET;
    final List<String> seen = new ArrayList<>();

    @Override
    public long read(long offset, int size) {
      return 0;
    }

    @Override
    public void write(long offset, int size, long value) {
      seen.add(value + (state.busMaster() ? "+master" : "") + (state.msixEnabled() ? "+msix" : ""));
    }
  }

  @Test
  @Timeout(20)
  void aStateWrittenBeforeACommandIsAppliedBeforeItEvenInOneWait() {
    Recorder device = new Recorder();
    PciStatePipe pipe = new PciStatePipe(state.readFd(), s -> device.state = s);
    DeviceEvents events =
        new DeviceEvents(
            "nvme", new IrqfdLines(List.of()), null, -1, System::nanoTime, logStream, pipe);
    // After the first wait (command 1 readable), the "VMM" sends a state and the "guest" a second
    // command: the server then reads both commands at once; the state must be applied before 2.
    boolean[] sent = new boolean[1];
    SideEvents racing =
        new SideEvents() {
          @Override
          public int[] fds() {
            return events.fds();
          }

          @Override
          public void ready(int index, int revents) {
            events.ready(index, revents);
          }

          @Override
          public int timeoutMs() {
            return events.timeoutMs();
          }

          @Override
          public void tick() {
            if (!sent[0]) {
              sent[0] = true;
              send(state.writeFd(), MASTER.encode());
              command(IoregionCommand.write(0, 0x1000, 4, 2, false));
            }
          }

          @Override
          public boolean ordered() {
            return events.ordered();
          }
        };
    command(IoregionCommand.write(0, 0x1000, 4, 1, false));
    IoregionServer server =
        new IoregionServer(
            "nvme",
            BusDeviceHandler.of(device),
            commands.readFd(),
            responses.writeFd(),
            logStream,
            racing);
    Thread t = Thread.ofPlatform().start(server::serve);
    try {
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(10))
          .until(() -> server.writes() == 2);
    } finally {
      commands.closeWriteEnd();
      try {
        t.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    // Command 1 was sent before the state, but arrived in the same read: it may see it early.
    assertEquals("2+master", device.seen.get(1), device.seen.toString());
  }

  @Test
  @Timeout(20)
  void aGarbageStateStopsTheServerWithAClearError() {
    Recorder device = new Recorder();
    PciStatePipe pipe = new PciStatePipe(state.readFd(), s -> device.state = s);
    DeviceEvents events =
        new DeviceEvents(
            "nvme", new IrqfdLines(List.of()), null, -1, System::nanoTime, logStream, pipe);
    send(state.writeFd(), new byte[8]);
    command(IoregionCommand.write(0, 0x1000, 4, 1, false));
    int status =
        new IoregionServer(
                "nvme",
                BusDeviceHandler.of(device),
                commands.readFd(),
                responses.writeFd(),
                logStream,
                events)
            .serve();
    assertEquals(IoregionServer.EXIT_HANDLER_FAILED, status);
    assertEquals(List.of(), device.seen, "nothing served after a broken VMM");
    String said = log.toString(StandardCharsets.UTF_8);
    assertTrue(said.contains("cannot apply PCI state: not a PCI state message"), said);
  }
}
