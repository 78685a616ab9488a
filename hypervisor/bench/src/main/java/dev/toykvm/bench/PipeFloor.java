package dev.toykvm.bench;

import dev.toykvm.devices.DeviceMain;
import dev.toykvm.ioregionfd.DeviceProcess;
import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.ioregionfd.wire.IoregionResponse;
import dev.toykvm.posix.Affinity;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Pipe;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;

/**
 * The raw floor of the transport, the round trip no route can beat: one 32-byte request and one
 * 32-byte response over a pair of pipes, with nothing around them but {@code write} and {@code
 * read}.
 *
 * <ul>
 *   <li>{@link #twoJvms}: to a child JVM running the test device behind the ioregionfd server
 *       ({@link DeviceMain} {@code testdev}), exactly the process the ioregionfd route talks to;
 *       the request is an ioregionfd read command, so the child also decodes it and runs the
 *       device;
 *   <li>{@link #twoThreads}: to an echo thread of this JVM, which only copies the bytes back;
 *   <li>{@link #syscallsOnly}: no other side at all, the {@code write} and {@code read} alone.
 * </ul>
 */
final class PipeFloor {
  private PipeFloor() {}

  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

  /**
   * Ping-pongs {@code warmup + count} times with a device JVM placed on {@code
   * placement.deviceCpu()}, recording the last {@code count}.
   *
   * @param progress told what is going on, e.g. the device's pid and placement
   */
  static Measurement twoJvms(
      Placement placement, long count, long warmup, Consumer<String> progress) {
    CountDownLatch ready = new CountDownLatch(1);
    List<String> argv =
        List.of(
            ProcessHandle.current().info().command().orElse("java"),
            "--enable-native-access=ALL-UNNAMED",
            "-XX:+UseSerialGC",
            "-Xmx64m",
            "-cp",
            System.getProperty("java.class.path"),
            DeviceMain.class.getName(),
            "testdev");
    try (DeviceProcess child =
            DeviceProcess.start(
                argv,
                line -> {
                  if (line.contains(DeviceMain.READY)) {
                    ready.countDown();
                  }
                });
        Arena arena = Arena.ofConfined()) {
      if (!ready.await(READY_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        throw new IllegalStateException(
            "cannot measure the pipe floor: the device JVM (pid "
                + child.pid()
                + ") did not start; its stderr: "
                + child.stderr());
      }
      Affinity.pinProcess(child.pid(), Affinity.cpu(placement.deviceCpu()));
      progress.accept(
          "  device JVM pid " + child.pid() + ": " + Affinity.summary(child.pid()) + "");
      MemorySegment request = arena.allocate(IoregionCommand.BYTES, 8);
      MemorySegment response = arena.allocate(IoregionResponse.BYTES, 8);
      IoregionCommand.read(0, 0, 4).encode(request);
      return pingPong(
          placement,
          Measurement.FLOOR_JVMS,
          child.commandFd(),
          child.responseFd(),
          request,
          response,
          count,
          warmup);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("cannot measure the pipe floor: interrupted");
    }
  }

  /**
   * Ping-pongs with an echo thread of this JVM pinned to {@code placement.deviceCpu()}; the caller
   * stays where it is (on {@code placement.vmmCpu()}).
   */
  static Measurement twoThreads(Placement placement, long count, long warmup) {
    try (Pipe requests = Fds.pipe2();
        Pipe responses = Fds.pipe2();
        Arena arena = Arena.ofConfined()) {
      long total = count + warmup;
      Thread echo =
          Thread.ofPlatform()
              .daemon()
              .name("bench-echo")
              .start(
                  () -> {
                    Affinity.pinThisThread(Affinity.cpu(placement.deviceCpu()));
                    try (Arena a = Arena.ofConfined()) {
                      MemorySegment buf = a.allocate(IoregionCommand.BYTES, 8);
                      for (long i = 0; i < total; i++) {
                        if (Fds.readFully(requests.readFd(), buf, IoregionCommand.BYTES)
                            != IoregionCommand.BYTES) {
                          return;
                        }
                        Fds.writeFully(responses.writeFd(), buf, IoregionResponse.BYTES);
                      }
                    }
                  });
      MemorySegment request = arena.allocate(IoregionCommand.BYTES, 8);
      MemorySegment response = arena.allocate(IoregionResponse.BYTES, 8);
      Measurement m =
          pingPong(
              placement,
              Measurement.FLOOR_THREADS,
              requests.writeFd(),
              responses.readFd(),
              request,
              response,
              count,
              warmup);
      echo.join(Duration.ofSeconds(10));
      return m;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("cannot measure the in-JVM pipe floor: interrupted");
    }
  }

  /**
   * The syscalls alone: one thread writes 32 bytes into a pipe and reads them back, so nobody is
   * woken and nothing is switched. What is left of a round trip above this is scheduling.
   */
  static Measurement syscallsOnly(Placement placement, long count, long warmup) {
    try (Pipe pipe = Fds.pipe2();
        Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(IoregionCommand.BYTES, 8);
      return pingPong(
          placement,
          Measurement.SYSCALLS_ONLY,
          pipe.writeFd(),
          pipe.readFd(),
          buf,
          buf,
          count,
          warmup);
    }
  }

  private static Measurement pingPong(
      Placement placement,
      String path,
      int requestFd,
      int responseFd,
      MemorySegment request,
      MemorySegment response,
      long count,
      long warmup) {
    for (long i = 0; i < warmup; i++) {
      roundTrip(requestFd, responseFd, request, response);
    }
    Histogram h = Measurement.newHistogram();
    long start = System.nanoTime();
    long before = start;
    for (long i = 0; i < count; i++) {
      roundTrip(requestFd, responseFd, request, response);
      long after = System.nanoTime();
      h.recordValue(Math.max(1, after - before));
      before = after;
    }
    double seconds = (before - start) / 1e9;
    return new Measurement(placement, path, Measurement.PING_PONG, h, count / seconds);
  }

  private static void roundTrip(
      int requestFd, int responseFd, MemorySegment request, MemorySegment response) {
    Fds.writeFully(requestFd, request, IoregionCommand.BYTES);
    if (Fds.readFully(responseFd, response, IoregionResponse.BYTES) != IoregionResponse.BYTES) {
      throw new IllegalStateException("cannot ping-pong: the other end closed its pipe");
    }
  }
}
