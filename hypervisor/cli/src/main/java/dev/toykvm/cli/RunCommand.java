package dev.toykvm.cli;

import dev.toykvm.devices.DebugExitPort;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.vmm.BundledImages;
import dev.toykvm.vmm.DeviceException;
import dev.toykvm.vmm.DeviceSpec;
import dev.toykvm.vmm.ExitCodes;
import dev.toykvm.vmm.Firmware;
import dev.toykvm.vmm.FirmwareBoot;
import dev.toykvm.vmm.FirmwareFile;
import dev.toykvm.vmm.GuestImage;
import dev.toykvm.vmm.ImageException;
import dev.toykvm.vmm.KernelBoot;
import dev.toykvm.vmm.KernelFiles;
import dev.toykvm.vmm.Machine;
import dev.toykvm.vmm.MachineConfig;
import dev.toykvm.vmm.MachineLayout;
import dev.toykvm.vmm.VmOutcome;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code toykvm run IMAGE}: boots an image and exits with the guest's status. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    sortOptions = false,
    exitCodeOnInvalidInput = ExitCodes.USAGE,
    exitCodeOnExecutionException = ExitCodes.HYPERVISOR,
    description = {
      "Boots IMAGE on the toykvm PC and prints its serial output (COM1) to stdout.",
      "The VM ends when the guest writes its status to I/O port 0xf4; toykvm exits with it.",
      "",
      "Machine: ROM (the 64 KiB image) at 0xffff0000 and 0xf0000, read-only;"
          + " RAM at 0-640 KiB and 1 MiB up to --memory; COM1 at ports 0x3f8-0x3ff, a 16550 UART"
          + " in its own process, reached over ioregionfd (see --com1-route); the in-kernel"
          + " 8259 pair (0x20, 0xa0; through the local APIC's LINT0), 8254 PIT (0x40-0x43,"
          + " 0x61), I/O APIC (0xfec00000) and local APIC (0xfee00000), unless --no-irqchip.",
      "",
      "With --kernel FILE instead of IMAGE: boots a Multiboot v1 kernel as qemu-system-i386"
          + " -kernel does, on a PC without ROM (RAM 0-0x9fc00 and 1 MiB up to --memory, 128M by"
          + " default) with fw_cfg (0x510), CMOS (0x70), port 0x92, the i8042 (0x60/0x64), the"
          + " debug console (0x402) and pc-testdev (0xe0, 0x2000, 0xff000000; its own process over"
          + " ioregionfd); port 0xf4 exits as QEMU's isa-debug-exit unless --debug-exit raw.",
      "",
      "With --bios FILE instead: starts PC firmware (64, 128 or 256 KiB, e.g. SeaBIOS's"
          + " bios-256k.bin) from the reset vector, mapped at the top of 4 GiB and its last 128"
          + " KiB below 1 MiB, on the --kernel machine without pc-testdev (the debug console at"
          + " 0x402 and 0xe9).",
      ""
    },
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0..255:the guest's status (the byte written to port 0xf4)",
      "64:usage error (including a --device that cannot be placed)",
      "65:the image, kernel or firmware is missing or malformed (not a regular file, not 64 KiB"
          + " (firmware: 64, 128 or 256 KiB), not a multiboot kernel, a segment outside RAM)",
      "66:the guest triple-faulted",
      "67:the guest halted and nothing can wake it",
      "68:the vCPU failed (internal error or failed entry)",
      "69:--timeout expired",
      "70:the hypervisor could not create or run the VM",
      "71:a device could not be placed or started, or failed (KVM_EXIT_IOREGIONFD_FAILURE,"
          + " or on route=vmm)",
      "72:the guest reset the machine (i8042 0xfe, port 0x92 bit 0): the VM ends"
    })
final class RunCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

  private final PrintStream out;
  private final PrintStream err;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "IMAGE",
      description =
          "A bundled image's name (see 'toykvm images') or the path of a 64 KiB ROM file (.bin).")
  String image;

  @Option(
      names = "--kernel",
      paramLabel = "FILE",
      description =
          "Boot a Multiboot v1 kernel (ELF32 with a multiboot header, or the a.out kludge) or a"
              + " Linux bzImage (32-bit boot protocol) as QEMU's -kernel does, on a PC with fw_cfg, CMOS, the debug console, port 0x92,"
              + " the i8042 reset line and pc-testdev (its own process, over ioregionfd)."
              + " Instead of IMAGE.")
  Path kernel;

  @Option(
      names = "--bios",
      paramLabel = "FILE",
      description =
          "Start firmware of 64, 128 or 256 KiB (QEMU's -bios) from the reset vector, on the"
              + " --kernel PC (128M by default) without pc-testdev. Instead of IMAGE; not with"
              + " --kernel (which boots without firmware).")
  Path bios;

  @Option(
      names = "--append",
      paramLabel = "CMDLINE",
      description =
          "The kernel's command line (a multiboot kernel sees \"FILE CMDLINE\", Linux CMDLINE,"
              + " as from QEMU).")
  String append;

  @Option(
      names = "--initrd",
      paramLabel = "MODULES",
      description =
          "Multiboot modules: a comma-separated list of \"FILE [ARGS]\" (QEMU's syntax), loaded"
              + " page-aligned above the kernel. Linux: one file, the initrd, placed page-aligned"
              + " as high as initrd_addr_max and the top of RAM allow.")
  String initrd;

  @Option(
      names = "--linux-entry",
      paramLabel = "BITS",
      description =
          "How a Linux kernel is entered: 32 (the 32-bit boot protocol at code32_start, the"
              + " default) or 64 (the 64-bit boot protocol at load address + 0x200, in long mode"
              + " with the first 4 GiB identity-mapped; the kernel must have XLF_KERNEL_64)."
              + " Ignored for a multiboot kernel.")
  Integer linuxEntry;

  @Option(
      names = "--debug-exit",
      paramLabel = "MODE",
      description =
          "How a write to port 0xf4 becomes the exit status: raw (the byte written; the default"
              + " with IMAGE) or qemu (isa-debug-exit: (value << 1) | 1; the default with"
              + " --kernel).")
  String debugExitMode;

  @Option(
      names = "--debugcon",
      paramLabel = "FILE",
      description =
          "Where the debug console (port 0x402, with --kernel or --bios; and 0xe9 with --bios)"
              + " writes. Default: stderr.")
  Path debugcon;

  @Option(
      names = "--trace",
      description =
          "Print to stderr, as they happen, every VM exit ([vcpu0] IO out port=0xf4 ...) and"
              + " every access the kernel side completes itself, with its route ([vcpu0]"
              + " ioregionfd pio write port=0x3f8 ...).")
  boolean trace;

  @Option(
      names = {"-m", "--memory"},
      paramLabel = "SIZE",
      converter = Converters.Memory.class,
      description =
          "Guest RAM, 2M..32G in 4 KiB steps (k/M/G suffixes, binary); above 3G, 3G sits below"
              + " the PCI hole and the rest from 4 GiB up (QEMU's pc layout). Default: 16M with"
              + " IMAGE, 128M with --kernel (QEMU's).")
  Long memory;

  /** The default {@code --memory} with {@code --kernel}: QEMU's. */
  static final long KERNEL_DEFAULT_MEMORY = 128L << 20;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      converter = Converters.Timeout.class,
      description = "Stop the guest after this long (e.g. 30s, 500ms, 2m) and exit with 69.")
  Duration timeout;

  @Option(
      names = "--device",
      paramLabel = "SPEC",
      converter = Converters.Device.class,
      description = {
        "Add a device (repeatable). SPEC is KIND[,key=value...]: KIND is uart, testdev or"
            + " exec=PATH (any program that speaks the ioregionfd wire protocol on stdin/stdout);"
            + " keys: pio=PORT or mmio=ADDRESS, size=BYTES, route=ioregionfd|vmm|in-process"
            + " (default ioregionfd), posted=on|off, name=NAME, irq=GSI[+GSI..]|none (level"
            + " irqfds), edge-irq=GSI[+GSI..], input=stdin|none (a uart's serial input).",
        "Examples: testdev,pio=0x1234,size=8   testdev,mmio=0xfeb00000,size=0x1000,route=vmm",
        "An NVMe controller on PCI (--kernel and --bios machines):"
            + " nvme,disk=FILE[,size=BYTES][,queues=N][,route=...][,name=NAME]: the disk is"
            + " created at size= (a multiple of 512; 64 MiB by default) if absent, an existing"
            + " file's size is used; queues= I/O queue pairs 1-16 (default 4); no pio=/mmio="
            + " (firmware or the VMM places its BARs).",
        "A device at port 0x3f8 replaces the default COM1 (which is on IRQ 4 and reads stdin)."
      })
  List<DeviceSpec> devices = new ArrayList<>();

  @Option(
      names = "--com1-route",
      paramLabel = "ROUTE",
      defaultValue = "ioregionfd",
      converter = Converters.Route.class,
      description =
          "How the default COM1 UART is reached: ioregionfd (its own process, the kernel side"
              + " talks to it), vmm (its own process, through the VMM) or in-process."
              + " Default: ${DEFAULT-VALUE}.")
  DeviceSpec.Route com1Route;

  @Option(
      names = "--device-timeout",
      paramLabel = "DURATION",
      converter = Converters.Timeout.class,
      description =
          "How long one access waits for a device process to answer before the VM ends with"
              + " exit 71, by either route: the kernel side reports KVM_EXIT_IOREGIONFD_FAILURE"
              + " (route=ioregionfd), the VMM gives up on it (route=vmm). E.g. 10m while"
              + " debugging a device. --timeout still ends the VM (69) during such a wait."
              + " Default: 5s.")
  Duration deviceTimeout;

  @Option(
      names = "--no-irqchip",
      description =
          "No interrupt controller: without KVM_CREATE_IRQCHIP and KVM_CREATE_PIT2 (the"
              + " in-kernel 8259s, I/O APIC, local APIC and 8254 of the default machine), hlt"
              + " ends the VM (67) as KVM_EXIT_HLT. By default hlt waits for an interrupt, and"
              + " only a hlt with interrupts disabled ends the VM (67).")
  boolean noIrqchip;

  @Option(
      names = "--cpus",
      paramLabel = "N",
      defaultValue = "1",
      description =
          "vCPUs, 1 to 8, one VMM thread each. vCPU 0 boots; the others wait for INIT and SIPI"
              + " from its local APIC, as on a PC (so not with --no-irqchip)."
              + " fw_cfg reports N (keys 0x05 and 0x0f). Default: ${DEFAULT-VALUE}.")
  int cpus;

  @Option(
      names = "--stats",
      description =
          "When the guest is done, print the VM's and each vCPU's statistics on stderr (as KVM's"
              + " KVM_GET_STATS_FD has them): exits by kind, ioregionfd round trips, posted"
              + " writes and their batches, ioeventfd signals, irqfd injections.")
  boolean stats;

  @CommandLine.Mixin Verbosity verbosity;

  /** The ioregion timeout property, the kernel side's "module parameter", read per vCPU. */
  private static final String DEVICE_TIMEOUT_PROPERTY = "toykvm.ioregionfd.timeout.ms";

  /** Sets {@code --device-timeout} for this run; closing puts the previous value back. */
  private Verbosity.Restore setDeviceTimeout() {
    if (deviceTimeout == null) {
      return () -> {};
    }
    String before = System.getProperty(DEVICE_TIMEOUT_PROPERTY);
    System.setProperty(
        DEVICE_TIMEOUT_PROPERTY, Long.toString(Math.max(1, deviceTimeout.toMillis())));
    return () -> {
      if (before == null) {
        System.clearProperty(DEVICE_TIMEOUT_PROPERTY);
      } else {
        System.setProperty(DEVICE_TIMEOUT_PROPERTY, before);
      }
    };
  }

  RunCommand(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  @Override
  public Integer call() {
    if (bios != null && (image != null || kernel != null)) {
      err.println(
          "toykvm: --bios does not go with "
              + (kernel != null
                  ? "--kernel: toykvm boots a kernel directly, without firmware"
                  : "IMAGE: give one or the other"));
      return ExitCodes.USAGE;
    }
    if (bios != null) {
      if (append != null || initrd != null) {
        err.println("toykvm: --append and --initrd go with --kernel");
        return ExitCodes.USAGE;
      }
      return callBios();
    }
    if ((image == null) == (kernel == null)) {
      err.println(
          "toykvm: give one of IMAGE, --kernel FILE or --bios FILE, not "
              + (image == null ? "neither" : "both"));
      return ExitCodes.USAGE;
    }
    if (cpus < MachineConfig.MIN_CPUS || cpus > MachineConfig.MAX_CPUS) {
      err.println(
          "toykvm: --cpus is "
              + MachineConfig.MIN_CPUS
              + " to "
              + MachineConfig.MAX_CPUS
              + ", not "
              + cpus);
      return ExitCodes.USAGE;
    }
    if (cpus > 1 && noIrqchip) {
      err.println(
          "toykvm: --cpus "
              + cpus
              + " needs the irqchip (the other CPUs start by INIT and SIPI): drop --no-irqchip");
      return ExitCodes.USAGE;
    }
    if (kernel == null && (append != null || initrd != null || debugcon != null)) {
      err.println("toykvm: --append, --initrd and --debugcon go with --kernel");
      return ExitCodes.USAGE;
    }
    if (linuxEntry != null && (kernel == null || (linuxEntry != 32 && linuxEntry != 64))) {
      err.println("toykvm: --linux-entry is 32 or 64, with --kernel");
      return ExitCodes.USAGE;
    }
    DebugExitPort.Mode mode;
    if (debugExitMode == null) {
      mode = kernel == null ? DebugExitPort.Mode.RAW : DebugExitPort.Mode.QEMU;
    } else if (debugExitMode.equals("raw") || debugExitMode.equals("qemu")) {
      mode = debugExitMode.equals("raw") ? DebugExitPort.Mode.RAW : DebugExitPort.Mode.QEMU;
    } else {
      err.println("toykvm: --debug-exit is raw or qemu, not '" + debugExitMode + "'");
      return ExitCodes.USAGE;
    }
    long mem =
        memory != null
            ? memory
            : kernel != null ? KERNEL_DEFAULT_MEMORY : MachineLayout.DEFAULT_MEMORY;
    GuestImage guest = null;
    KernelBoot boot = null;
    OutputStream debugOut = null;
    try {
      if (kernel == null) {
        guest = BundledImages.resolve(image);
      } else {
        debugOut = debugcon == null ? nonClosing(err) : Files.newOutputStream(debugcon);
        boot =
            KernelFiles.load(
                kernel,
                append,
                initrd,
                mem,
                mode,
                debugOut,
                linuxEntry != null && linuxEntry == 64);
      }
    } catch (ImageException e) {
      err.println("toykvm: " + e.getMessage());
      closeQuietly(debugOut);
      return ExitCodes.IMAGE;
    } catch (IOException e) {
      err.println("toykvm: cannot open the debug console file " + debugcon + ": " + e.getMessage());
      return ExitCodes.USAGE;
    }
    try {
      return run(guest, boot, null, mem, mode);
    } finally {
      closeQuietly(debugOut);
    }
  }

  /** {@code --bios}: the firmware machine, QEMU's debug-exit mode and 128M by default. */
  private int callBios() {
    DebugExitPort.Mode mode;
    if (debugExitMode == null || debugExitMode.equals("qemu")) {
      mode = DebugExitPort.Mode.QEMU;
    } else if (debugExitMode.equals("raw")) {
      mode = DebugExitPort.Mode.RAW;
    } else {
      err.println("toykvm: --debug-exit is raw or qemu, not '" + debugExitMode + "'");
      return ExitCodes.USAGE;
    }
    Firmware firmware;
    try {
      firmware = FirmwareFile.load(bios);
    } catch (ImageException e) {
      err.println("toykvm: " + e.getMessage());
      return ExitCodes.IMAGE;
    }
    OutputStream debugOut;
    try {
      debugOut = debugcon == null ? nonClosing(err) : Files.newOutputStream(debugcon);
    } catch (IOException e) {
      err.println("toykvm: cannot open the debug console file " + debugcon + ": " + e.getMessage());
      return ExitCodes.USAGE;
    }
    try {
      long mem = memory != null ? memory : KERNEL_DEFAULT_MEMORY;
      return run(null, null, new FirmwareBoot(firmware, mode, debugOut), mem, mode);
    } finally {
      closeQuietly(debugOut);
    }
  }

  private static OutputStream nonClosing(PrintStream s) {
    return new java.io.FilterOutputStream(s) {
      @Override
      public void write(byte[] b, int off, int len) {
        s.write(b, off, len);
      }

      @Override
      public void close() {
        s.flush();
      }
    };
  }

  private static void closeQuietly(OutputStream o) {
    if (o == null) {
      return;
    }
    try {
      o.close();
    } catch (IOException e) {
      log.debug("run: closing the debug console output failed", e);
    }
  }

  private int run(
      GuestImage guest, KernelBoot boot, FirmwareBoot firmware, long mem, DebugExitPort.Mode mode) {
    MachineConfig config =
        new MachineConfig(
            mem,
            trace,
            Optional.ofNullable(timeout),
            devices,
            com1Route,
            deviceTimeout == null ? MachineConfig.DEFAULT_DEVICE_TIMEOUT : deviceTimeout,
            !noIrqchip,
            cpus);
    try (Verbosity.Restore tracing = trace ? Verbosity.enableKernelTrace() : () -> {};
        Verbosity.Restore timeoutSet = setDeviceTimeout();
        Kvm kvm = Kvm.open();
        Machine machine =
            firmware != null
                ? Machine.firmware(kvm, config, firmware, out, trace ? err : null)
                : boot != null
                    ? Machine.boot(kvm, config, boot, out, trace ? err : null)
                    : Machine.create(kvm, config, guest, out, trace ? err : null, mode)) {
      VmOutcome outcome = machine.run();
      if (!outcome.message().isEmpty()) {
        err.println("toykvm: " + outcome.message());
      }
      if (stats) {
        err.print("toykvm: " + machine.stats().render());
      }
      log.debug("run: {} -> exit status {}", outcome, outcome.exitCode());
      return outcome.exitCode();
    } catch (DeviceException | dev.toykvm.devices.bus.BusRangeException e) {
      log.debug("run: a device failed", e);
      err.println("toykvm: " + e.getMessage());
      return ExitCodes.DEVICE;
    } catch (KvmException e) {
      log.debug("run: the kernel side failed", e);
      err.println("toykvm: cannot run the VM: " + e.getMessage());
      return ExitCodes.HYPERVISOR;
    } catch (IOException e) {
      log.debug("run: guest memory failed", e);
      err.println("toykvm: cannot create guest memory: " + e.getMessage());
      return ExitCodes.HYPERVISOR;
    }
  }
}
