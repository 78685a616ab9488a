package dev.toykvm.devices;

import dev.toykvm.ioregionfd.IoregionServer;
import dev.toykvm.posix.Processes;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
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
 * </pre>
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
   * The command lines launchers use, {@code DEVICE} and {@code DEVICE --output FILE}, parsed
   * without picocli, which takes a device JVM's start-up about a quarter longer (its classes are
   * too old for the AOT cache, docs/performance.md); anything else (help, options, mistakes) is
   * left to picocli.
   *
   * @return the command to run, or null to let picocli parse {@code args}
   */
  static DeviceMain parsePlain(String[] args, PrintStream log) {
    boolean plain =
        switch (args.length) {
          case 1 -> !args[0].startsWith("-");
          case 3 ->
              !args[0].startsWith("-") && args[1].equals("--output") && !args[2].startsWith("-");
          default -> false;
        };
    if (!plain) {
      return null;
    }
    DeviceMain main = new DeviceMain(log);
    main.device = args[0];
    main.output = args.length == 3 ? args[2] : null;
    return main;
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
      if (output != null && !kind.hasOutput()) {
        log.println(device + ": --output is only for uart");
        return 2;
      }
      if (kind.hasOutput()) {
        sink = output == null || output.equals("stderr") ? log : new FileOutputStream(output);
      }
      IoregionServer server = new IoregionServer(device, kind.handler(sink), 0, 1, log);
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
