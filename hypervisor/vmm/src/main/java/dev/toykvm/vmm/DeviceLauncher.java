package dev.toykvm.vmm;

import dev.toykvm.devices.DeviceKind;
import dev.toykvm.devices.DeviceMain;
import dev.toykvm.ioregionfd.DeviceProcess;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Pipe;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts device processes: a device JVM ({@link DeviceMain}) for the devices toykvm knows, or any
 * program for {@code exec=PATH}.
 *
 * <p>No device may outlive the VM, even if the VMM is killed: every device is started with {@code
 * PR_SET_PDEATHSIG} = SIGKILL (a device JVM sets it itself; any other program is started through
 * util-linux's {@code setpriv --pdeathsig KILL}). Linux sends that signal when the <em>thread</em>
 * that started the child ends, so all devices are started from one thread that lives as long as
 * this JVM. Each device leads a process group of its own ({@link DeviceProcess}), so what it forks
 * ends with it. On a normal end, {@link DeviceManager#close()} closes the pipes, devices exit on
 * EOF, and their groups are killed.
 */
final class DeviceLauncher {
  private static final Logger log = LoggerFactory.getLogger(DeviceLauncher.class);

  /** How long a device JVM may take to start serving. */
  static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

  private static final ExecutorService SPAWNER =
      Executors.newSingleThreadExecutor(
          r -> Thread.ofPlatform().daemon().name("toykvm-device-spawner").unstarted(r));

  private DeviceLauncher() {}

  /** A started device: its process and, for a UART, the pipe its output arrives on. */
  record Started(DeviceProcess process, Pipe output, CountDownLatch ready) {}

  /**
   * Starts the process for {@code spec}.
   *
   * @throws DeviceException if it cannot be started
   */
  static Started start(DeviceSpec spec) {
    Pipe output = spec.kind().hasOutput() ? Fds.pipe2() : null;
    // A device JVM says when it serves; any other program is taken as serving at once.
    CountDownLatch ready = new CountDownLatch(spec.kind().isModel() ? 1 : 0);
    Logger deviceLog = LoggerFactory.getLogger("toykvm.device." + spec.name());
    List<String> argv = argv(spec, output != null);
    try {
      DeviceProcess process =
          SPAWNER
              .submit(
                  () ->
                      DeviceProcess.start(
                          argv,
                          line -> {
                            if (line.contains(DeviceMain.READY)) {
                              ready.countDown();
                            }
                            deviceLog.info("{}", line);
                          },
                          output == null ? new int[0] : new int[] {output.writeFd()}))
              .get();
      if (output != null) {
        output.closeWriteEnd(); // the child has its copy; EOF comes when it exits
      }
      log.debug("device {}: pid {}, {}", spec.name(), process.pid(), String.join(" ", argv));
      return new Started(process, output, ready);
    } catch (ExecutionException e) {
      if (output != null) {
        output.close();
      }
      throw new DeviceException(
          "cannot start device "
              + spec.name()
              + " ("
              + argv.getFirst()
              + "): "
              + e.getCause().getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DeviceException("cannot start device " + spec.name() + ": interrupted");
    }
  }

  /** Waits until the device serves; a device that dies or never gets there is an error. */
  static void awaitReady(DeviceSpec spec, Started started) {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    try {
      // In slices, so that a device that dies first is said at once, not after the whole wait.
      while (!started.ready().await(20, TimeUnit.MILLISECONDS)) {
        var ended = started.process().waitFor(Duration.ZERO);
        if (ended.isPresent()) {
          throw new DeviceException(
              "device "
                  + spec.name()
                  + " ended ("
                  + ended.get()
                  + ") before it started serving; its stderr: "
                  + started.process().awaitStderrEof(Duration.ofSeconds(1)).strip());
        }
        if (System.nanoTime() - deadline > 0) {
          throw new DeviceException(
              "device "
                  + spec.name()
                  + " did not start serving within "
                  + READY_TIMEOUT.toSeconds()
                  + " s; its stderr: "
                  + started.process().stderr().strip());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DeviceException("cannot wait for device " + spec.name() + ": interrupted");
    }
  }

  static List<String> argv(DeviceSpec spec, boolean outputOnFd3) {
    List<String> argv = new ArrayList<>();
    if (spec.kind() == DeviceKind.EXEC) {
      if (!Files.isExecutable(spec.program())) {
        throw new DeviceException(
            "cannot start device "
                + spec.name()
                + ": "
                + spec.program()
                + (Files.exists(spec.program()) ? " is not executable" : " does not exist"));
      }
      argv.addAll(List.of("setpriv", "--pdeathsig", "KILL", "--"));
      argv.add(spec.program().toAbsolutePath().toString());
      return argv;
    }
    argv.add(ProcessHandle.current().info().command().orElse("java"));
    argv.add("--enable-native-access=ALL-UNNAMED");
    argv.add("-XX:+UseSerialGC");
    argv.add("-Xmx64m");
    // Extra options, whitespace-separated: ./toykvm passes the device JVM's AOT cache this way.
    for (String option : System.getProperty("toykvm.device.jvm.options", "").split("\\s+")) {
      if (!option.isEmpty()) {
        argv.add(option);
      }
    }
    argv.add("-cp");
    argv.add(System.getProperty("java.class.path"));
    argv.add(DeviceMain.class.getName());
    argv.add(spec.kind().label());
    if (outputOnFd3) {
      argv.add("--output");
      argv.add("/dev/fd/3");
    }
    return argv;
  }
}
