package dev.toykvm.vmm;

import dev.toykvm.devices.DeviceKind;
import dev.toykvm.devices.DeviceMain;
import dev.toykvm.devices.GuestRam;
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
 *
 * <p>A device's fds beyond 0-2 are, in order: a UART's output pipe (fd 3), a duplicate of the VMM's
 * stdin for {@code input=stdin}, then its irqfds and resamplefds ({@link DeviceIrqfds}); its
 * command line names each ({@code --output /dev/fd/3 --input N --irqfd GSI:N:M}).
 *
 * <p>A PCI function (nvme) gets instead: the guest memory file ({@code --guest-ram
 * FD:GPA:SIZE:OFFSET[+...]}, the machine's RAM ranges, for DMA), the read end of its PCI state pipe
 * ({@code --pci-state FD}; the VMM keeps a non-blocking write end), an edge irqfd per MSI-X vector
 * ({@code --irqfd GSI:FD}, in vector order) and its INTx irqfd and resamplefd ({@code --intx
 * GSI:FD:RESAMPLEFD}), besides {@code --disk FILE [--disk-size BYTES] --queues N}.
 */
final class DeviceLauncher {
  private static final Logger log = LoggerFactory.getLogger(DeviceLauncher.class);

  /** How long a device JVM may take to start serving. */
  static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

  private static final ExecutorService SPAWNER =
      Executors.newSingleThreadExecutor(
          r -> Thread.ofPlatform().daemon().name("toykvm-device-spawner").unstarted(r));

  private DeviceLauncher() {}

  /**
   * A started device: its process, for a UART the pipe its output arrives on, and its irqfds.
   *
   * @param irqfds the eventfds it raises interrupts with (none for most devices); owned by the
   *     caller, to close with the device
   */
  record Started(
      DeviceProcess process, Pipe output, CountDownLatch ready, DeviceIrqfds irqfds, int stateFd) {

    /**
     * The irqfds the VMM registers for this device, one {@code VmFd.irqfd(new KvmIrqfd(f.fd(),
     * f.gsi(), f.flags(), f.resampleFd()))} each ({@link DeviceManager} does it).
     */
    List<DeviceIrqfds.InterruptFd> interruptFds() {
      return irqfds.interruptFds();
    }
  }

  /**
   * What a PCI function's process gets besides its pipes.
   *
   * @param guestRamFd the guest memory file ({@code GuestMemoryFile.fd()})
   * @param layout where guest RAM is in it
   * @param vectorGsis the GSI allocated to each MSI-X vector, in vector order
   * @param intxGsi the GSI its INTx pin is routed to now
   */
  record PciStart(
      int guestRamFd, List<GuestRam.Range> layout, List<Integer> vectorGsis, int intxGsi) {}

  /**
   * Starts the process for {@code spec}.
   *
   * @throws DeviceException if it cannot be started
   */
  static Started start(DeviceSpec spec) {
    return start(spec, null);
  }

  /**
   * Starts the process for {@code spec}, a PCI function's with {@code pci}.
   *
   * @param pci what a PCI function gets (required for one, else null)
   * @throws DeviceException if it cannot be started
   */
  static Started start(DeviceSpec spec, PciStart pci) {
    if (spec.pci() != (pci != null)) {
      throw new IllegalArgumentException("cannot start " + spec.name() + ": PCI plumbing mismatch");
    }
    Pipe output = null;
    DeviceIrqfds irqfds = null;
    int stdinCopy = -1;
    Pipe state = null;
    int stateWriter = -1;
    try {
      output = spec.kind().hasOutput() ? Fds.pipe2() : null;
      irqfds =
          pci == null
              ? DeviceIrqfds.create(spec)
              : DeviceIrqfds.forPci(pci.vectorGsis(), pci.intxGsi());
      if (pci != null) {
        state = Fds.pipe2();
        // The VMM's writer never blocks: a device that stopped reading fails its next access.
        stateWriter = Fds.reopen(state.writeFd(), Fds.O_WRONLY | Fds.O_NONBLOCK);
        state.closeWriteEnd();
      }
      // A copy numbered above 2: the child's fd 0 is its command pipe, dup2'ed before this one.
      // A VMM started with stdin closed gives the device no input rather than failing.
      if (spec.stdin() && Fds.isOpen(0)) {
        stdinCopy = Fds.dup(0);
      } else if (spec.stdin()) {
        log.info("device {}: stdin is closed, so the serial port gets no input", spec.name());
      }
    } catch (RuntimeException e) {
      release(output, irqfds, stdinCopy);
      closeState(state, stateWriter);
      throw new DeviceException("cannot start device " + spec.name() + ": " + e.getMessage());
    }
    FdPlan plan =
        FdPlan.of(
            spec,
            output == null ? -1 : output.writeFd(),
            stdinCopy,
            pci,
            state == null ? -1 : state.readFd(),
            irqfds);
    List<String> fdArgs = plan.args();
    // A device JVM says when it serves; any other program is taken as serving at once.
    CountDownLatch ready = new CountDownLatch(spec.kind().isModel() ? 1 : 0);
    Logger deviceLog = LoggerFactory.getLogger("toykvm.device." + spec.name());
    List<String> argv;
    try {
      argv = argv(spec, fdArgs);
    } catch (RuntimeException e) {
      release(output, irqfds, stdinCopy);
      closeState(state, stateWriter);
      throw e;
    }
    int[] childFds = plan.fds().stream().mapToInt(Integer::intValue).toArray();
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
                          childFds))
              .get();
      if (output != null) {
        output.closeWriteEnd(); // the child has its copy; EOF comes when it exits
      }
      release(null, null, stdinCopy); // the child has its copy of the VMM's stdin
      closeState(state, -1); // the child has its read end
      log.debug("device {}: pid {}, {}", spec.name(), process.pid(), String.join(" ", argv));
      return new Started(process, output, ready, irqfds, stateWriter);
    } catch (ExecutionException e) {
      release(output, irqfds, stdinCopy);
      closeState(state, stateWriter);
      throw new DeviceException(
          "cannot start device "
              + spec.name()
              + " ("
              + argv.getFirst()
              + "): "
              + e.getCause().getMessage());
    } catch (InterruptedException e) {
      release(output, irqfds, stdinCopy);
      closeState(state, stateWriter);
      Thread.currentThread().interrupt();
      throw new DeviceException("cannot start device " + spec.name() + ": interrupted");
    }
  }

  /** Closes what a start that failed (or is done with it) made. */
  private static void release(Pipe output, DeviceIrqfds irqfds, int stdinCopy) {
    if (output != null) {
      output.close();
    }
    if (irqfds != null) {
      irqfds.close();
    }
    if (stdinCopy >= 0) {
      Fds.close(stdinCopy);
    }
  }

  /**
   * A device's fds beyond 0-2, in the order it gets them (its fds 3, 4, ...), and the arguments
   * that name them.
   *
   * @param fds the VMM's fds, the child's 3, 4, ... in order
   * @param args the device's arguments naming them
   */
  record FdPlan(List<Integer> fds, List<String> args) {

    /**
     * @param outputFd a UART's output pipe's write end, or -1
     * @param stdinCopy a copy of the VMM's stdin, or -1
     * @param pci a PCI function's plumbing, or null
     * @param stateReadFd the read end of its state pipe (with {@code pci})
     */
    static FdPlan of(
        DeviceSpec spec,
        int outputFd,
        int stdinCopy,
        PciStart pci,
        int stateReadFd,
        DeviceIrqfds irqfds) {
      List<Integer> extraFds = new ArrayList<>();
      List<String> fdArgs = new ArrayList<>();
      if (outputFd >= 0) {
        fdArgs.addAll(List.of("--output", "/dev/fd/" + (3 + extraFds.size())));
        extraFds.add(outputFd);
      }
      if (stdinCopy >= 0) {
        fdArgs.addAll(List.of("--input", Integer.toString(3 + extraFds.size())));
        extraFds.add(stdinCopy);
      }
      if (pci != null) {
        fdArgs.addAll(nvmeArgs(spec.nvme()));
        fdArgs.addAll(
            List.of(
                "--guest-ram", (3 + extraFds.size()) + ":" + GuestRam.formatLayout(pci.layout())));
        extraFds.add(pci.guestRamFd());
        fdArgs.addAll(List.of("--pci-state", Integer.toString(3 + extraFds.size())));
        extraFds.add(stateReadFd);
      }
      for (DeviceIrqfds.InterruptFd f : irqfds.interruptFds()) {
        int childFd = 3 + extraFds.size();
        extraFds.add(f.fd());
        int childResample = -1;
        if (f.resampleFd() >= 0) {
          childResample = 3 + extraFds.size();
          extraFds.add(f.resampleFd());
        }
        boolean intx = irqfds.pci() && f == irqfds.intx();
        fdArgs.addAll(List.of(intx ? "--intx" : "--irqfd", f.argument(childFd, childResample)));
      }
      return new FdPlan(List.copyOf(extraFds), List.copyOf(fdArgs));
    }
  }

  private static void closeState(Pipe state, int writer) {
    if (state != null) {
      state.close();
    }
    if (writer >= 0) {
      Fds.close(writer);
    }
  }

  /** An NVMe controller's own arguments: its disk and queues. */
  static List<String> nvmeArgs(NvmeSpec nvme) {
    List<String> args = new ArrayList<>(List.of("--disk", nvme.disk().toString()));
    if (nvme.size().isPresent()) {
      args.addAll(List.of("--disk-size", Long.toString(nvme.size().getAsLong())));
    }
    args.addAll(List.of("--queues", Integer.toString(nvme.queues())));
    return args;
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

  /**
   * The command line of {@code spec}'s process.
   *
   * @param fdArgs the arguments that name the device's fds beyond 0-2 ({@code --output /dev/fd/3},
   *     {@code --input N}, {@code --irqfd ...}); only for a device model
   */
  static List<String> argv(DeviceSpec spec, List<String> fdArgs) {
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
    argv.addAll(fdArgs);
    return argv;
  }
}
