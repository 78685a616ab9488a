package dev.toykvm.vmm;

import dev.toykvm.devices.BusDevice;
import dev.toykvm.devices.BusDeviceHandler;
import dev.toykvm.devices.DeviceKind;
import dev.toykvm.devices.GuestRam;
import dev.toykvm.devices.NvmeHost;
import dev.toykvm.devices.Uart16550;
import dev.toykvm.devices.bus.Bus;
import dev.toykvm.devices.pci.PciModel;
import dev.toykvm.ioregionfd.DeviceProcess;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmIoregion;
import dev.toykvm.kvm.KvmIrqfd;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.PosixException;
import dev.toykvm.posix.ProcessGroup;
import dev.toykvm.vmm.pci.BarListener;
import dev.toykvm.vmm.pci.BusBarRoutes;
import dev.toykvm.vmm.pci.IoregionBarRoutes;
import dev.toykvm.vmm.pci.NvmeFunction;
import dev.toykvm.vmm.pci.PciBus;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The machine's devices: wires each one by its route, refuses overlaps, copies a UART process's
 * output, tells which device failed, and tears them all down.
 *
 * <p>Routes: {@code in-process} puts the device object on the VMM's bus; {@code ioregionfd} starts
 * the device process and registers an ioregion for it ({@code KVM_SET_IOREGIONFD}); {@code vmm}
 * starts it and puts a {@link RemoteDevice} proxy on the VMM's bus. Every device gets a {@code
 * user_data}, its index in the machine's device list, which both process routes send.
 *
 * <p>A PCI function ({@code nvme}) goes on the machine's PCI bus ({@link #pci}) at the first free
 * device number from 3, with its configuration space here ({@link NvmeFunction}); its BAR0 follows
 * the guest by route ({@link IoregionBarRoutes} with posted writes, {@link BusBarRoutes} to a
 * {@link RemoteDevice}, or to the model itself in the VMM); its MSI-X vectors get GSIs from {@link
 * PciPlumbing#FIRST_MSIX_GSI} up that no {@code --device} names; BAR4 and the interrupts' routing
 * are the {@link PciPlumbing.PciInterruptWiring}'s.
 *
 * <p>One overlap check covers every route and what the machine itself occupies ({@link #reserve}):
 * the kernel side only sees ioregions, the VMM's buses only the rest.
 *
 * <p>Teardown ({@link #close()}, after the VM is closed): the command pipes are closed (devices see
 * EOF and exit), then each device gets 2 s before its process group is killed; it is reaped, its
 * output copier joined. Built and closed on one thread; {@link #wake()} from any.
 */
final class DeviceManager implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DeviceManager.class);

  /**
   * How long a device may take to exit on EOF at teardown before its group is killed: 2 s, or the
   * milliseconds in {@code toykvm.device.exit.grace.ms} (scripts/aot-train gives a device JVM that
   * writes its AOT training record more time).
   */
  private static final Duration EXIT_GRACE =
      Duration.ofMillis(Long.getLong("toykvm.device.exit.grace.ms", 2000));

  /** What occupies a range: a device, or a part of the machine. */
  private record Placed(String what, boolean pio, long base, long size) {
    boolean overlaps(boolean onPio, long otherBase, long otherSize) {
      // Ranges are below 2^63 (DeviceSpec, MachineLayout): no sum overflows.
      return pio == onPio && otherBase < base + size && base < otherBase + otherSize;
    }
  }

  /** A device in its own process, with what teardown must clean up for it. */
  private record Launched(
      DeviceSpec spec, DeviceLauncher.Started started, Thread output, RemoteDevice remote) {}

  private final boolean irqchip;
  private final VmFd vm;
  private final Bus pio;
  private final Bus mmio;
  private final OutputStream serialOut;
  private final Duration deviceTimeout;
  private final int wakeFd;
  private final List<Placed> placed = new ArrayList<>();
  private final List<Launched> launched = new ArrayList<>();
  private Uart16550 com1;
  private boolean closed;
  private PciBus pciBus;
  private PciPlumbing.GuestRamShare guestRam;
  private PciPlumbing.PciInterruptWiring wiring = PciPlumbing.PciInterruptWiring.NONE;
  private final List<PciPlumbing.PciAttached> pciFunctions = new ArrayList<>();
  private final List<PciModel> pciModels = new ArrayList<>();
  private final List<InProcessPciIrqs> inProcessIrqs = new ArrayList<>();
  private PciPlumbing plumbing;

  /**
   * @param serialOut where COM1's (and any UART's) output goes
   * @param deviceTimeout how long the VMM waits for a device's answer on {@code route=vmm}
   */
  DeviceManager(VmFd vm, Bus pio, Bus mmio, OutputStream serialOut, Duration deviceTimeout) {
    this(vm, pio, mmio, serialOut, deviceTimeout, true);
  }

  /**
   * @param irqchip whether the VM has the in-kernel irqchip: device processes' irqfds are
   *     registered with {@code KVM_IRQFD} only then (without it their interrupts go nowhere)
   */
  DeviceManager(
      VmFd vm, Bus pio, Bus mmio, OutputStream serialOut, Duration deviceTimeout, boolean irqchip) {
    this.irqchip = irqchip;
    this.vm = vm;
    this.pio = pio;
    this.mmio = mmio;
    this.serialOut = serialOut;
    this.deviceTimeout = deviceTimeout;
    this.wakeFd = Eventfd.create();
  }

  private dev.toykvm.vmm.pci.GsiTable gsiTable;

  /**
   * The VM's live GSI routing table, with the devices' static MSI routes and their GSIs reserved
   * (PCI functions' MSI-X vectors take theirs from it); {@code null} before {@link #attachAll}.
   */
  dev.toykvm.vmm.pci.GsiTable gsiTable() {
    return gsiTable;
  }

  /** Marks a range the machine itself uses, so no device may overlap it. */
  void reserve(String what, boolean onPio, long base, long size) {
    placed.add(new Placed(what, onPio, base, size));
  }

  /** The machine's PCI bus: PCI functions ({@code nvme}) go there; without one they are refused. */
  void pci(PciBus bus) {
    this.pciBus = bus;
  }

  /** Guest RAM for devices that do DMA. */
  void guestRam(PciPlumbing.GuestRamShare share) {
    this.guestRam = share;
  }

  /**
   * Where PCI functions' MSI-X tables and interrupts go ({@link PciInterruptRoutes} on a machine
   * with a chipset); closed with the devices if it is {@link AutoCloseable}.
   */
  void pciInterruptWiring(PciPlumbing.PciInterruptWiring wiring) {
    this.wiring = wiring;
  }

  /** The PCI functions attached, in order. */
  List<PciPlumbing.PciAttached> pciFunctions() {
    return List.copyOf(pciFunctions);
  }

  /**
   * Installs the devices' MSI routes ({@link GsiRoutes}), puts every device on the machine by its
   * route, in order, then waits until the device processes serve.
   *
   * @throws DeviceException if a device overlaps another or the machine, two devices route one GSI
   *     as an MSI, or a device cannot start; the devices started so far are left for {@link
   *     #close()}
   */
  void attachAll(List<DeviceSpec> specs) {
    gsiTable = GsiRoutes.install(vm, specs, irqchip);
    plumbing = new PciPlumbing(specs);
    for (int i = 0; i < specs.size(); i++) {
      attach(specs.get(i), i);
    }
    for (Launched l : launched) {
      DeviceLauncher.awaitReady(l.spec(), l.started());
    }
  }

  private void attach(DeviceSpec spec, long userData) {
    if (spec.pci()) {
      attachPci(spec, userData);
      return;
    }
    checkFree(spec);
    Bus bus = spec.pio() ? pio : mmio;
    if (spec.route() == DeviceSpec.Route.IN_PROCESS) {
      BusDevice device = spec.kind().create(serialOut);
      bus.insert(spec.name(), spec.base(), spec.size(), device);
      placed.add(new Placed("device " + spec.name(), spec.pio(), spec.base(), spec.size()));
      List<BusDevice> windows = DeviceKind.windows(device);
      for (DeviceKind.Window w : spec.kind().extraWindows()) {
        checkFree(spec.name() + " window " + w.number(), w.pio(), w.base(), w.size());
        (w.pio() ? pio : mmio).insert(spec.name(), w.base(), w.size(), windows.get(w.number()));
        placed.add(new Placed("device " + spec.name(), w.pio(), w.base(), w.size()));
      }
      if (device instanceof Uart16550 u && spec.covers(true, MachineLayout.COM1_BASE)) {
        com1 = u;
      }
      return;
    }
    DeviceLauncher.Started started = DeviceLauncher.start(spec);
    Thread output = started.output() == null ? null : copyOutput(spec, started);
    RemoteDevice remote =
        spec.route() == DeviceSpec.Route.VMM
            ? new RemoteDevice(spec, userData, started.process(), deviceTimeout, wakeFd)
            : null;
    launched.add(new Launched(spec, started, output, remote));
    placed.add(new Placed("device " + spec.name(), spec.pio(), spec.base(), spec.size()));
    registerIrqfds(spec, started);
    if (remote != null) {
      bus.insert(spec.name(), spec.base(), spec.size(), remote);
      return;
    }
    int flags =
        (spec.pio() ? KvmConstants.KVM_IOREGION_PIO : 0)
            | (spec.posted() ? KvmConstants.KVM_IOREGION_POSTED_WRITES : 0);
    vm.setIoregion(
        new KvmIoregion(
            spec.base(),
            spec.size(),
            userData,
            started.process().responseFd(),
            started.process().commandFd(),
            flags));
    // A device with several windows (pc-testdev): one more ioregion each, on the same fds, told
    // apart by the window number in user_data's bits 48-55.
    for (DeviceKind.Window w : spec.kind().extraWindows()) {
      checkFree(spec.name() + " window " + w.number(), w.pio(), w.base(), w.size());
      vm.setIoregion(
          new KvmIoregion(
              w.base(),
              w.size(),
              userData | (long) w.number() << BusDeviceHandler.WINDOW_SHIFT,
              started.process().responseFd(),
              started.process().commandFd(),
              w.pio() ? KvmConstants.KVM_IOREGION_PIO : 0));
      placed.add(new Placed("device " + spec.name(), w.pio(), w.base(), w.size()));
    }
  }

  /**
   * Puts a PCI function on the bus: its model started by route, its configuration space here, BAR0
   * routed by route, BAR4 and interrupts to the {@link PciPlumbing.PciInterruptWiring}.
   */
  private void attachPci(DeviceSpec spec, long userData) {
    if (pciBus == null) {
      throw new DeviceException(
          "cannot place device "
              + spec.name()
              + ": an nvme controller is a PCI device, and this machine has no PCI (boot a"
              + " --kernel or --bios machine)");
    }
    if (guestRam == null) {
      throw new DeviceException("cannot place device " + spec.name() + ": no guest RAM for DMA");
    }
    int slot = PciPlumbing.freeSlot(pciBus, spec);
    NvmeSpec nvme = spec.nvme();
    NvmeFunction function;
    BarListener registers;
    List<DeviceIrqfds.InterruptFd> vectors = List.of();
    DeviceIrqfds.InterruptFd intx = null;
    List<Integer> gsis = new ArrayList<>();
    for (int v = 0; v < nvme.vectors(); v++) {
      gsis.add(plumbing.allocateGsi());
    }
    int intxGsi = PciPlumbing.intxIrq(slot);
    if (spec.route() == DeviceSpec.Route.IN_PROCESS) {
      InProcessPciIrqs irqs = InProcessPciIrqs.start(spec.name(), gsis, intxGsi);
      PciModel model;
      try {
        model =
            NvmeHost.open(
                nvme.disk(),
                nvme.size(),
                nvme.queues(),
                GuestRam.over(guestRam.file(), guestRam.layout()),
                irqs.interrupts());
      } catch (java.io.IOException | RuntimeException e) {
        irqs.close();
        throw new DeviceException("cannot start device " + spec.name() + ": " + e.getMessage());
      }
      inProcessIrqs.add(irqs);
      pciModels.add(model);
      vectors = irqs.vectors();
      intx = irqs.intx();
      function = new NvmeFunction(spec.name(), nvme.vectors(), model::pciState);
      registers = new BusBarRoutes(spec.name(), pio, mmio, new BusDevice[] {model});
    } else {
      DeviceLauncher.Started started =
          DeviceLauncher.start(
              spec, new DeviceLauncher.PciStart(guestRam.fd(), guestRam.layout(), gsis, intxGsi));
      RemoteDevice remote =
          spec.route() == DeviceSpec.Route.VMM
              ? new RemoteDevice(spec, userData, started.process(), deviceTimeout, wakeFd)
              : null;
      launched.add(new Launched(spec, started, null, remote));
      vectors = started.irqfds().vectors();
      intx = started.irqfds().intx();
      function =
          new NvmeFunction(
              spec.name(), nvme.vectors(), s -> PciPlumbing.sendState(spec, started, s));
      registers =
          remote != null
              ? new BusBarRoutes(spec.name(), pio, mmio, new BusDevice[] {remote})
              : new IoregionBarRoutes(
                  vm,
                  spec.name(),
                  started.process().responseFd(),
                  started.process().commandFd(),
                  userData,
                  true);
    }
    var attached = new PciPlumbing.PciAttached(spec, function, slot, vectors, intx);
    function.listen(NvmeFunction.routes(registers, wiring.attach(vm, attached)));
    pciBus.add(slot, 0, function);
    pciFunctions.add(attached);
    log.debug("devices: {} at PCI 00:{}.0, {}", spec.name(), Integer.toHexString(slot), spec);
  }

  /**
   * {@code KVM_IRQFD} for each interrupt line of a device process: the kernel side injects what the
   * device signals, with no VMM thread involved. Without an irqchip ({@code --no-irqchip}) there is
   * nothing to inject into: the device's interrupts are dropped, said once in the log.
   */
  private void registerIrqfds(DeviceSpec spec, DeviceLauncher.Started started) {
    for (DeviceIrqfds.InterruptFd f : started.interruptFds()) {
      if (!irqchip) {
        log.info("devices: {}'s interrupts (GSI {}) go nowhere: no irqchip", spec.name(), f.gsi());
        continue;
      }
      vm.irqfd(new KvmIrqfd(f.fd(), f.gsi(), f.flags(), f.resampleFd()));
      log.debug(
          "devices: {} raises GSI {} on irqfd {} (resamplefd {})",
          spec.name(),
          f.gsi(),
          f.fd(),
          f.resampleFd());
    }
  }

  /** Every device process's irqfds, in the order the devices were attached. */
  List<DeviceIrqfds.InterruptFd> interruptFds() {
    return launched.stream().flatMap(l -> l.started().interruptFds().stream()).toList();
  }

  /** Devices may not overlap, whatever their routes, nor what the machine itself uses. */
  private void checkFree(DeviceSpec spec) {
    checkFree(spec.name(), spec.pio(), spec.base(), spec.size());
  }

  private void checkFree(String name, boolean onPio, long base, long size) {
    for (Placed p : placed) {
      if (p.overlaps(onPio, base, size)) {
        throw new DeviceException(
            String.format(
                "cannot place device %s: it overlaps %s (%s0x%x..0x%x)",
                name, p.what(), p.pio() ? "ports " : "", p.base(), p.base() + p.size() - 1));
      }
    }
  }

  /** Copies a UART process's output to the serial output, until the process ends. */
  private Thread copyOutput(DeviceSpec spec, DeviceLauncher.Started started) {
    int fd = started.output().readFd();
    return Thread.ofPlatform()
        .daemon()
        .name("serial output of " + spec.name())
        .start(
            () -> {
              try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(4096);
                while (true) {
                  long n = Fds.read(fd, buf, buf.byteSize());
                  if (n <= 0) {
                    return;
                  }
                  synchronized (serialOut) {
                    serialOut.write(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
                    serialOut.flush();
                  }
                }
              } catch (IOException | RuntimeException e) {
                log.debug("devices: serial output of {} ended: {}", spec.name(), e.toString());
              }
            });
  }

  /**
   * Ends every wait of the VMM for a device ({@code route=vmm}) now and from now on. Any thread.
   */
  void wake() {
    Eventfd.signal(wakeFd);
  }

  // A device process found ended while the VM ran (checkEnded), as the VM's outcome.
  private volatile VmOutcome ended;

  /**
   * Whether a device process has ended (killed, crashed, exited) while the VM runs; the first one
   * found becomes the VM's outcome ({@link #failure()}, status 71). Without this a device that dies
   * between two accesses, or with a posted doorbell in its pipe it never read, would leave the
   * guest waiting in memory for a completion that never comes, and the VM would go on without it.
   * Any thread; only while the VM runs (at teardown the devices end on purpose).
   */
  boolean checkEnded() {
    if (ended != null) {
      return true;
    }
    for (Launched l : launched) {
      DeviceProcess p = l.started().process();
      boolean over;
      try {
        over = ProcessGroup.hasEnded(p.pid());
      } catch (PosixException e) {
        over = true; // ECHILD: reaped already, by a vCPU naming it in a failure
      }
      if (over) {
        String how =
            p.waitFor(Duration.ZERO)
                .map(
                    s ->
                        s.exited()
                            ? "exited with status " + s.exitCode()
                            : "was killed by signal " + s.signal())
                .orElse("ended");
        ended =
            new VmOutcome.DeviceFailed(
                "a device process failed: it " + how + " while the VM ran" + describe(l));
        return true;
      }
    }
    return false;
  }

  /**
   * The first failure of a device on {@code route=vmm}, or else of a device process found ended
   * ({@link #checkEnded()}), as the VM's outcome.
   */
  Optional<VmOutcome> failure() {
    for (Launched l : launched) {
      if (l.remote() != null && l.remote().failure().isPresent()) {
        RemoteDevice.Failure f = l.remote().failure().get();
        return Optional.of(
            new VmOutcome.DeviceFailed(
                "a device process failed (route vmm, "
                    + f.errno()
                    + ") on a "
                    + (f.write() ? "write to " : "read of ")
                    + where(l.spec(), f.address())
                    + ": "
                    + f.description()
                    + describe(l)));
      }
    }
    return Optional.ofNullable(ended);
  }

  /**
   * Where a {@code route=vmm} access went: the port or address; for a PCI function, whose remote
   * device sees offsets in its BAR0, the guest address where BAR0 is decoded and the offset.
   */
  private String where(DeviceSpec spec, long address) {
    if (!spec.pci()) {
      return (spec.pio() ? "port 0x" : "address 0x") + Long.toHexString(address);
    }
    for (PciPlumbing.PciAttached p : pciFunctions) {
      var m = p.spec() == spec ? p.function().decoded(NvmeFunction.REGISTERS_BAR) : null;
      if (m != null) {
        return (m.io() ? "port 0x" : "address 0x")
            + Long.toHexString(m.address() + address)
            + " (BAR0 + 0x"
            + Long.toHexString(address)
            + ")";
      }
    }
    return "BAR0 + 0x" + Long.toHexString(address);
  }

  /** Which device process covers the address, and the end of what it said on stderr; or "". */
  String describe(boolean onPio, long address) {
    for (Launched l : launched) {
      if (l.spec().covers(onPio, address) || barCovers(l.spec(), onPio, address)) {
        return describe(l);
      }
    }
    return "";
  }

  /** Whether a PCI function's BAR0 is decoded at the address now. */
  private boolean barCovers(DeviceSpec spec, boolean onPio, long address) {
    for (PciPlumbing.PciAttached p : pciFunctions) {
      var m = p.spec() == spec ? p.function().decoded(NvmeFunction.REGISTERS_BAR) : null;
      if (m != null
          && m.io() == onPio
          && address >= m.address()
          && address - m.address() < m.size()) {
        return true;
      }
    }
    return false;
  }

  private static String describe(Launched l) {
    DeviceProcess p = l.started().process();
    // An ended device's last words may still be in its stderr pipe, not yet read by the collector
    // thread: wait (bounded) for that pipe's EOF, which comes once the device and its children are
    // gone. A device still running is quoted as far as it got.
    String err =
        (p.waitFor(Duration.ofMillis(200)).isPresent()
                ? p.awaitStderrEof(Duration.ofMillis(500))
                : p.stderr())
            .strip();
    return "; device "
        + l.spec().name()
        + " (pid "
        + p.pid()
        + ")"
        + (err.isEmpty() ? " wrote nothing on stderr" : " said: " + lastWords(err));
  }

  /** The end of a device's stderr, at most {@link #QUOTED} characters, from a line start if any. */
  static String lastWords(String err) {
    if (err.length() <= QUOTED) {
      return err;
    }
    String tail = err.substring(err.length() - QUOTED);
    int nl = tail.indexOf('\n');
    return nl >= 0 && nl < tail.length() - 1 ? tail.substring(nl + 1) : "..." + tail;
  }

  /** How much of a failed device's stderr its message quotes. */
  private static final int QUOTED = 400;

  /** COM1 if it lives in the VMM (route in-process), else null. */
  Uart16550 com1() {
    return com1;
  }

  /** The pids of the device processes, in the order the devices were attached. */
  List<Integer> pids() {
    return launched.stream().map(l -> l.started().process().pid()).toList();
  }

  /**
   * Ends every device process and its process group (EOF first, then SIGKILL after {@link
   * #EXIT_GRACE}), reaps them and joins their output copiers. Call after the VM is closed.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (wiring instanceof AutoCloseable c) {
      try {
        c.close();
      } catch (Exception e) {
        log.debug("devices: closing the PCI interrupt routes failed", e);
      }
    }
    for (Launched l : launched) {
      l.started().process().closeCommands();
    }
    for (Launched l : launched) {
      DeviceProcess p = l.started().process();
      p.waitFor(EXIT_GRACE);
      try {
        p.close();
      } catch (RuntimeException e) {
        log.debug("devices: closing {} failed", l.spec().name(), e);
      }
      if (l.output() != null) {
        try {
          l.output().join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        l.started().output().close();
      }
      l.started().irqfds().close(); // the VM is closed: nothing in the kernel side holds them
      if (l.started().stateFd() >= 0) {
        Fds.close(l.started().stateFd());
      }
    }
    launched.clear();
    for (PciModel m : pciModels) {
      try {
        m.close();
      } catch (RuntimeException e) {
        log.debug("devices: closing a PCI model failed", e);
      }
    }
    pciModels.clear();
    inProcessIrqs.forEach(InProcessPciIrqs::close); // the VM is closed: nothing holds them
    inProcessIrqs.clear();
    Fds.close(wakeFd);
  }
}
