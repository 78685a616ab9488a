package dev.toykvm.devices;

import dev.toykvm.ioregionfd.IoregionServer;
import dev.toykvm.posix.Processes;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Hosts one device in its own JVM behind an {@link IoregionServer}: commands arrive on fd 0,
 * responses leave on fd 1, logs go to fd 2 prefixed with the device's name.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp ... dev.toykvm.devices.DeviceMain testdev
 * java --enable-native-access=ALL-UNNAMED -cp ... dev.toykvm.devices.DeviceMain uart --output FILE
 * java ... dev.toykvm.devices.DeviceMain uart --output /dev/fd/3 --input 4 --irqfd 4:5:6
 * java ... dev.toykvm.devices.DeviceMain nvme --disk FILE --queues 4 --guest-ram 3:0:0xa0000:0+...
 *     --pci-state 4 --irqfd 24:5 ... --intx 10:10:11
 * </pre>
 *
 * <p>{@code nvme} takes its own options ({@link NvmeHost}): {@code --disk FILE}, {@code --disk-size
 * BYTES}, {@code --queues N}, {@code --guest-ram FD:GPA:SIZE:OFFSET[+...]} (the guest memory file
 * and its layout, for DMA), {@code --pci-state FD} (the VMM's {@code PciState} messages), {@code
 * --irqfd GSI:FD} once per MSI-X vector in vector order, and {@code --intx GSI:FD:RESAMPLEFD}.
 *
 * <p>{@code --irqfd GSI:FD[:RESAMPLEFD]} (repeatable) gives the device an irqfd the VMM registers
 * on GSI (with {@code KVM_IRQFD_FLAG_RESAMPLE} when a resamplefd is given): the device's interrupt
 * lines drive them ({@link IrqfdLines}); a UART's interrupt output drives its first one. {@code
 * --input FD} (a UART only) is the serial line's receive side: the bytes read from FD reach the
 * UART's receive FIFO ({@link DeviceEvents}). The fds are inherited from the launcher.
 *
 * <p>fd 1 is the protocol, so nothing else may write there: {@code System.out} is pointed at stderr
 * before anything runs, and the UART's output goes to stderr or a file.
 *
 * <p>The process dies with its parent: it asks for SIGKILL when the parent (thread) that spawned it
 * ends, then exits at once if the parent is already gone. Exit status: 0 after EOF on fd 0; the
 * server's status ({@link IoregionServer#EXIT_BAD_COMMAND}, {@link
 * IoregionServer#EXIT_HANDLER_FAILED}, {@link IoregionServer#EXIT_IO_ERROR}) after a failure; 1 if
 * the parent was gone or the device could not be set up; 2 for a bad command line.
 */
@Command(
    name = "DeviceMain",
    description = "Serves one toykvm device over ioregionfd on fds 0 (commands) and 1 (responses).",
    mixinStandardHelpOptions = true)
public final class DeviceMain implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "DEVICE", description = "testdev or uart")
  String device;

  @Option(
      names = "--output",
      paramLabel = "FILE|stderr",
      description = "where the UART's transmitted bytes go (default: stderr)")
  String output;

  @Option(
      names = "--input",
      paramLabel = "FD",
      description = "an fd whose bytes arrive on the UART's serial line (default: none)")
  Integer input;

  @Option(
      names = "--irqfd",
      paramLabel = "GSI:FD[:RESAMPLEFD]",
      description = "an irqfd the device's interrupt lines drive (repeatable)")
  java.util.List<String> irqfds = new java.util.ArrayList<>();

  @Option(names = "--disk", paramLabel = "FILE", description = "nvme: the disk image")
  String disk;

  @Option(
      names = "--disk-size",
      paramLabel = "BYTES",
      description = "nvme: the disk's size (created at it if absent; must match if present)")
  Long diskSize;

  @Option(names = "--queues", paramLabel = "N", description = "nvme: I/O queue pairs (1-16)")
  Integer queues;

  @Option(
      names = "--guest-ram",
      paramLabel = "FD:GPA:SIZE:OFFSET[+...]",
      description = "nvme: the guest memory file and where guest RAM is in it (DMA)")
  String guestRam;

  @Option(
      names = "--pci-state",
      paramLabel = "FD",
      description = "nvme: the pipe the VMM writes PCI state messages on")
  Integer pciState;

  @Option(
      names = "--intx",
      paramLabel = "GSI:FD:RESAMPLEFD",
      description = "nvme: the level irqfd of the function's INTx pin")
  String intx;

  private final PrintStream log;

  DeviceMain(PrintStream log) {
    this.log = log;
  }

  public static void main(String[] args) {
    PrintStream stderr = System.err;
    System.setOut(stderr); // fd 1 carries responses: a stray println must not corrupt them
    DeviceMain plain = parsePlain(args, stderr);
    if (plain != null) {
      System.exit(plain.call());
    }
    CommandLine cli = new CommandLine(new DeviceMain(stderr));
    cli.setOut(new PrintWriter(stderr, true));
    cli.setErr(new PrintWriter(stderr, true));
    System.exit(cli.execute(args));
  }

  /**
   * The command lines launchers use, {@code DEVICE} followed by {@code --output FILE}, {@code
   * --input FD} (once each) and {@code --irqfd SPEC} (any number), parsed without picocli, which
   * takes a device JVM's start-up about a quarter longer (its classes are too old for the AOT
   * cache, docs/performance.md); anything else (help, options, mistakes) is left to picocli.
   *
   * @return the command to run, or null to let picocli parse {@code args}
   */
  static DeviceMain parsePlain(String[] args, PrintStream log) {
    if (args.length == 0 || args.length % 2 == 0 || args[0].startsWith("-")) {
      return null;
    }
    DeviceMain main = new DeviceMain(log);
    main.device = args[0];
    for (int i = 1; i < args.length; i += 2) {
      String value = args[i + 1];
      if (value.startsWith("-")) {
        return null;
      }
      switch (args[i]) {
        case "--output" -> {
          if (main.output != null) {
            return null;
          }
          main.output = value;
        }
        case "--input" -> {
          if (main.input != null || !value.matches("[0-9]{1,9}")) {
            return null;
          }
          main.input = Integer.parseInt(value);
        }
        case "--irqfd" -> main.irqfds.add(value);
        case "--disk" -> {
          if (main.disk != null) {
            return null;
          }
          main.disk = value;
        }
        case "--disk-size" -> {
          if (main.diskSize != null || !value.matches("[0-9]{1,18}")) {
            return null;
          }
          main.diskSize = Long.parseLong(value);
        }
        case "--queues" -> {
          if (main.queues != null || !value.matches("[0-9]{1,9}")) {
            return null;
          }
          main.queues = Integer.parseInt(value);
        }
        case "--guest-ram" -> {
          if (main.guestRam != null) {
            return null;
          }
          main.guestRam = value;
        }
        case "--pci-state" -> {
          if (main.pciState != null || !value.matches("[0-9]{1,9}")) {
            return null;
          }
          main.pciState = Integer.parseInt(value);
        }
        case "--intx" -> {
          if (main.intx != null) {
            return null;
          }
          main.intx = value;
        }
        default -> {
          return null;
        }
      }
    }
    return main;
  }

  /** The nvme device: its options checked, then {@link NvmeHost#serve}. */
  private int nvme() {
    if (output != null || input != null) {
      log.println(device + ": --output and --input are for uart");
      return 2;
    }
    if (disk == null || queues == null || guestRam == null || pciState == null) {
      log.println(device + ": needs --disk, --queues, --guest-ram and --pci-state");
      return 2;
    }
    return NvmeHost.serve(
        new NvmeHost.Options(
            java.nio.file.Path.of(disk),
            diskSize == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(diskSize),
            queues,
            guestRam,
            pciState,
            irqfds,
            intx),
        log);
  }

  /**
   * Parses {@code GSI:FD[:RESAMPLEFD]}.
   *
   * @throws IllegalArgumentException if it is not that
   */
  static IrqfdLines.Irqfd parseIrqfd(String spec) {
    String[] parts = spec.split(":", -1);
    if (parts.length < 2 || parts.length > 3) {
      throw new IllegalArgumentException("--irqfd " + spec + " is not GSI:FD[:RESAMPLEFD]");
    }
    int[] n = new int[3];
    n[2] = -1;
    for (int i = 0; i < parts.length; i++) {
      if (!parts[i].matches("[0-9]{1,9}")) {
        throw new IllegalArgumentException(
            "--irqfd " + spec + ": '" + parts[i] + "' is not a number (GSI:FD[:RESAMPLEFD])");
      }
      n[i] = Integer.parseInt(parts[i]);
    }
    return new IrqfdLines.Irqfd(n[0], n[1], n[2]);
  }

  /** What a device prints on stderr once it serves commands; launchers wait for it. */
  public static final String READY = "ready: commands on fd 0, responses on fd 1";

  @Override
  public Integer call() {
    try {
      Processes.setParentDeathSignal(Processes.SIGKILL);
    } catch (RuntimeException e) {
      log.println(device + ": cannot ask to die with the parent: " + e.getMessage());
      return 1;
    }
    if (Processes.getppid() == 1) {
      log.println(device + ": the parent is already gone; exiting");
      return 1;
    }
    OutputStream sink = null;
    try {
      DeviceKind kind = DeviceKind.byLabel(device).filter(DeviceKind::isModel).orElse(null);
      if (kind == null) {
        log.println(device + ": cannot host it: unknown device (" + DeviceKind.modelLabels() + ")");
        return 2;
      }
      boolean nvmeOptions =
          disk != null
              || diskSize != null
              || queues != null
              || guestRam != null
              || pciState != null
              || intx != null;
      if (kind == DeviceKind.NVME) {
        return nvme();
      }
      if (nvmeOptions) {
        log.println(
            device
                + ": --disk, --disk-size, --queues, --guest-ram, --pci-state, --intx are for nvme");
        return 2;
      }
      if (output != null && !kind.hasOutput()) {
        log.println(device + ": --output is only for uart");
        return 2;
      }
      if (input != null && kind != DeviceKind.UART) {
        log.println(device + ": --input is only for uart");
        return 2;
      }
      IrqfdLines irqs;
      try {
        irqs = new IrqfdLines(irqfds.stream().map(DeviceMain::parseIrqfd).toList());
      } catch (IllegalArgumentException e) {
        log.println(device + ": " + e.getMessage());
        return 2;
      }
      for (IrqfdLines.Irqfd i : irqs.irqfds()) {
        if (!dev.toykvm.posix.Eventfd.isEventfd(i.fd())
            || (i.level() && !dev.toykvm.posix.Eventfd.isEventfd(i.resampleFd()))) {
          log.println(device + ": cannot use --irqfd " + i + ": its fds are not open eventfds");
          return 2;
        }
      }
      if (kind.hasOutput()) {
        sink = output == null || output.equals("stderr") ? log : new FileOutputStream(output);
      }
      OptionalInt firstGsi =
          irqs.irqfds().isEmpty()
              ? OptionalInt.empty()
              : OptionalInt.of(irqs.irqfds().getFirst().gsi());
      BusDevice model = kind.create(sink, irqfds.isEmpty() ? null : irqs, firstGsi);
      DeviceEvents events =
          new DeviceEvents(
              device,
              irqs,
              model instanceof Uart16550 u ? u : null,
              input == null ? -1 : input,
              System::nanoTime,
              log);
      IoregionServer server =
          new IoregionServer(
              device, kind.handlerFor(model), 0, 1, log, events.any() ? events : null);
      // The VMM waits for this line before it lets the guest run (a JVM takes a while to start).
      log.println(device + ": " + READY);
      log.flush();
      int status = server.serve();
      if (status == IoregionServer.EXIT_EOF) {
        log.println(device + ": EOF on the command fd after " + server.accesses() + " accesses");
      }
      return status;
    } catch (IOException e) {
      log.println(device + ": cannot open the output " + output + ": " + e.getMessage());
      return 1;
    } finally {
      if (sink != null && sink != log) {
        try {
          sink.close();
        } catch (IOException e) {
          log.println(device + ": cannot close the output " + output + ": " + e.getMessage());
        }
      }
      log.flush();
    }
  }
}
