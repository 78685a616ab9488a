package dev.toykvm.cli;

import dev.toykvm.vmm.ExitCodes;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code toykvm} command line: {@code toykvm run IMAGE}, {@code toykvm images}, {@code toykvm
 * bench}.
 *
 * <p>{@link #execute} is the whole program minus {@code System.exit}, so tests run it in-process.
 */
@Command(
    name = "toykvm",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    sortOptions = false,
    exitCodeOnInvalidInput = ExitCodes.USAGE,
    exitCodeOnExecutionException = ExitCodes.HYPERVISOR,
    description = {
      "A whole-machine toy x86 hypervisor: boots a 64 KiB firmware image on an emulated PC"
          + " (Unicorn CPU, a kvm.ko-like kernel side in Java) with a 16550 UART on COM1.",
      ""
    },
    commandListHeading = "%nCommands:%n",
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0..255:the guest's status, the byte it wrote to the debug-exit port 0xf4"
          + " (0 = success; guests should use 0..63 to be unambiguous)",
      "64:usage error (unknown option, bad --memory or --device, missing IMAGE)",
      "65:the image is missing or malformed (not a regular file, not 64 KiB)",
      "66:the guest triple-faulted (KVM_EXIT_SHUTDOWN)",
      "67:the guest halted and nothing can wake it",
      "68:the vCPU failed (KVM_EXIT_INTERNAL_ERROR or KVM_EXIT_FAIL_ENTRY)",
      "69:--timeout expired",
      "70:the hypervisor could not create or run the VM (e.g. libunicorn missing)",
      "71:a device could not be placed or started, or failed (KVM_EXIT_IOREGIONFD_FAILURE,"
          + " or on route=vmm)"
    },
    footer = {
      "",
      "Examples:",
      "  toykvm run hello                 boot the bundled 'hello' image",
      "  toykvm run --trace my-rom.bin    boot a 64 KiB ROM file, printing every VM exit",
      "  toykvm images                    list the bundled images",
      "  toykvm bench --quick             measure the device routes (see toykvm bench --help)",
      "",
      "The guest's serial output (COM1) goes to stdout; messages, the trace and logs to stderr."
    })
public final class Main implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  @Spec CommandSpec spec;

  @CommandLine.Mixin Verbosity verbosity;

  public static void main(String[] args) {
    // The user's stdin reaches the guest's COM1 (not in execute(): a test's stdin is not a user's).
    if (System.getProperty(dev.toykvm.vmm.MachineConfig.COM1_STDIN_PROPERTY) == null) {
      System.setProperty(dev.toykvm.vmm.MachineConfig.COM1_STDIN_PROPERTY, "true");
    }
    System.exit(execute(args, System.out, System.err));
  }

  /**
   * Runs the command line.
   *
   * @param out the guest's serial output and command output
   * @param err messages, trace and logs
   * @return the exit status (see {@link ExitCodes})
   */
  public static int execute(String[] args, PrintStream out, PrintStream err) {
    CommandLine cl = new CommandLine(new Main());
    cl.addSubcommand("run", new RunCommand(out, err));
    cl.addSubcommand("images", new ImagesCommand(out, err));
    cl.addSubcommand("bench", new dev.toykvm.bench.BenchCommand(out, err));
    cl.getSubcommands()
        .get("bench")
        .addSubcommand("guest-speed", new dev.toykvm.bench.GuestSpeedCommand(out, err))
        .addSubcommand("nvme", new dev.toykvm.bench.NvmeBenchCommand(out, err));
    cl.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
    cl.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
    cl.setParameterExceptionHandler(
        (e, badArgs) -> {
          err.println("toykvm: " + e.getMessage());
          err.println(
              "Try '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help' for more.");
          return ExitCodes.USAGE;
        });
    cl.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          // Never a bare stack trace: one line, the details at debug level.
          log.debug("toykvm failed", e);
          err.println("toykvm: internal error: " + e);
          return ExitCodes.HYPERVISOR;
        });
    return cl.execute(args);
  }

  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "missing command: run, images or bench");
  }
}
