package dev.toykvm.vmm;

import static dev.toykvm.vmm.MachineLayout.*;

import dev.toykvm.devices.BusDevice;
import dev.toykvm.devices.DebugExitPort;
import dev.toykvm.devices.TestDevice;
import dev.toykvm.devices.Uart16550;
import dev.toykvm.devices.bus.Bus;
import dev.toykvm.ioregionfd.DeviceProcess;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmIoregion;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Fds;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The toykvm PC built from a firmware image: memory, devices and one vCPU, all wired here and only
 * here (see {@link MachineLayout} for the map).
 *
 * <p>It owns the VM, the vCPU and the guest memory and closes them in that order. {@link #run()} is
 * called from one thread, the VMM's vCPU thread; {@link #stop()} may be called from any thread.
 *
 * {@snippet :
 * try (Kvm kvm = Kvm.open();
 *     Machine m = Machine.create(kvm, MachineConfig.defaults(), image, System.out, null)) {
 *   VmOutcome outcome = m.run();
 * }
 * }
 */
public final class Machine implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Machine.class);

  private final GuestMemoryFile rom;
  private final GuestMemoryFile ram;
  private final VmFd vm;
  private final VcpuFd vcpu;
  private final Bus pio = new Bus("pio");
  private final Bus mmio = new Bus("mmio");
  private Uart16550 com1;
  private final List<AttachedDevice> attached = new ArrayList<>();
  private final DebugExitPort debugExit = new DebugExitPort();
  private final ExitHandler exits;
  private final MachineConfig config;
  private final OutputStream serialOut;
  private final AtomicBoolean stopRequested = new AtomicBoolean();

  private Machine(
      MachineConfig config,
      GuestMemoryFile rom,
      GuestMemoryFile ram,
      VmFd vm,
      VcpuFd vcpu,
      OutputStream serialOut,
      PrintStream trace) {
    this.config = config;
    this.rom = rom;
    this.ram = ram;
    this.vm = vm;
    this.vcpu = vcpu;
    this.serialOut = serialOut;
    pio.insert("debug-exit", DEBUG_EXIT_PORT, 1, debugExit);
    this.exits = new ExitHandler(vcpu.id(), pio, mmio, debugExit, trace);
  }

  /** Puts every device on the machine, and waits until the device processes serve. */
  private void attachDevices() {
    for (DeviceSpec spec : config.allDevices()) {
      BusDevice device = attach(spec);
      if (device instanceof Uart16550 u && spec.covers(true, COM1_BASE)) {
        com1 = u;
      }
    }
    for (AttachedDevice a : attached) {
      DeviceLauncher.awaitReady(a.spec(), a.started());
    }
  }

  /**
   * Builds the machine: maps the firmware and RAM, creates vCPU 0 in its reset state, and wires the
   * devices.
   *
   * @param serialOut where COM1's output goes
   * @param trace where {@code --trace} lines go, or {@code null}
   * @throws IOException if guest memory cannot be created
   * @throws dev.toykvm.kvm.KvmException if the kernel side refuses the VM
   */
  public static Machine create(
      Kvm kvm, MachineConfig config, GuestImage image, OutputStream serialOut, PrintStream trace)
      throws IOException {
    GuestMemoryFile rom = null;
    GuestMemoryFile ram = null;
    VmFd vm = null;
    try {
      rom = GuestMemoryFile.create("rom", ROM_SIZE);
      MemorySegment.copy(MemorySegment.ofArray(image.rom()), 0, rom.segment(), 0, ROM_SIZE);
      ram = GuestMemoryFile.create("ram", config.memory());
      vm = kvm.createVm();
      // One ROM mapping, two read-only slots, as QEMU maps the BIOS.
      map(vm, SLOT_ROM_HIGH, true, ROM_HIGH_BASE, rom.segment());
      map(vm, SLOT_ROM_LOW, true, ROM_LOW_BASE, rom.segment());
      // RAM: file offset = guest-physical address, so a device process can map it simply.
      map(vm, SLOT_LOW_RAM, false, 0, ram.segment().asSlice(0, LOW_RAM_SIZE));
      map(
          vm,
          SLOT_HIGH_RAM,
          false,
          HIGH_RAM_BASE,
          ram.segment().asSlice(HIGH_RAM_BASE, config.memory() - HIGH_RAM_BASE));
      VcpuFd vcpu = vm.createVcpu(0);
      log.debug(
          "machine: image {} ({} bytes), {} MiB RAM, memory files {} and {}",
          image.name(),
          image.rom().length,
          config.memory() >> 20,
          rom.createdAs(),
          ram.createdAs());
      Machine machine = new Machine(config, rom, ram, vm, vcpu, serialOut, trace);
      try {
        machine.attachDevices();
      } catch (RuntimeException e) {
        machine.close();
        throw e;
      }
      return machine;
    } catch (IOException | RuntimeException e) {
      closeQuietly(vm, ram, rom);
      throw e;
    }
  }

  /** A device in its own process, with what the machine must clean up for it. */
  private record AttachedDevice(DeviceSpec spec, DeviceLauncher.Started started, Thread output) {}

  /**
   * Puts one device on the machine by its route. Called from the constructor; on failure the
   * devices attached so far are cleaned up by {@link #create}'s caller through {@link #close()}.
   */
  private BusDevice attach(DeviceSpec spec) {
    Bus bus = spec.pio() ? pio : mmio;
    checkFree(spec);
    if (spec.route() == DeviceSpec.Route.IN_PROCESS) {
      BusDevice device =
          switch (spec.kind()) {
            case "uart" -> new Uart16550(serialOut);
            case "testdev" -> new TestDevice();
            default -> throw new IllegalArgumentException("no in-process " + spec.kind());
          };
      bus.insert(spec.name(), spec.base(), spec.size(), device);
      placed.add(spec);
      return device;
    }
    DeviceLauncher.Started started = DeviceLauncher.start(spec);
    Thread output = started.output() == null ? null : copyOutput(spec, started);
    attached.add(new AttachedDevice(spec, started, output));
    placed.add(spec);
    if (spec.route() == DeviceSpec.Route.IOREGIONFD) {
      int flags =
          (spec.pio() ? KvmConstants.KVM_IOREGION_PIO : 0)
              | (spec.posted() ? KvmConstants.KVM_IOREGION_POSTED_WRITES : 0);
      vm.setIoregion(
          new KvmIoregion(
              spec.base(),
              spec.size(),
              attached.size() - 1,
              started.process().responseFd(),
              started.process().commandFd(),
              flags));
      return null;
    }
    RemoteDevice remote =
        new RemoteDevice(spec.name(), started.process(), DeviceLauncher.READY_TIMEOUT);
    bus.insert(spec.name(), spec.base(), spec.size(), remote);
    return remote;
  }

  private final List<DeviceSpec> placed = new ArrayList<>();

  /** Devices may not overlap, whatever their route (the kernel side only sees ioregions). */
  private void checkFree(DeviceSpec spec) {
    if (spec.pio()
        && spec.base() <= DEBUG_EXIT_PORT
        && DEBUG_EXIT_PORT < spec.base() + spec.size()) {
      throw new DeviceException(
          "cannot place device " + spec.name() + ": it overlaps the debug-exit port 0xf4");
    }
    for (DeviceSpec other : placed) {
      if (other.pio() == spec.pio()
          && spec.base() < other.base() + other.size()
          && other.base() < spec.base() + spec.size()) {
        throw new DeviceException(
            "cannot place device " + spec.name() + ": it overlaps device " + other.name());
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
                log.debug("machine: serial output of {} ended: {}", spec.name(), e.toString());
              }
            });
  }

  private static void map(VmFd vm, int slot, boolean readOnly, long gpa, MemorySegment memory) {
    vm.setUserMemoryRegion(
        new KvmUserspaceMemoryRegion(
            slot, readOnly ? KvmConstants.KVM_MEM_READONLY : 0, gpa, memory.byteSize(), memory));
  }

  /**
   * Runs the vCPU until the VM is over: the guest exits, halts for good, triple-faults, fails, or
   * the timeout or {@link #stop()} ends it.
   */
  public VmOutcome run() {
    Optional<Duration> timeout = config.timeout();
    Thread timer = timeout.map(this::startTimer).orElse(null);
    try {
      return loop();
    } finally {
      if (timer != null) {
        timer.interrupt();
      }
      flushSerial();
      log.debug(
          "machine: {} unclaimed port accesses, {} unclaimed MMIO accesses, {} odd UART accesses",
          exits.unclaimedPioAccesses(),
          exits.unclaimedMmioAccesses(),
          com1 == null ? "-" : com1.oddAccesses());
    }
  }

  private VmOutcome loop() {
    while (true) {
      VcpuExit exit = vcpu.run();
      Optional<VmOutcome> outcome = exits.handle(exit, vcpu::getRegs);
      if (outcome.isPresent()) {
        if (exit instanceof VcpuExit.IoregionfdFailure f) {
          return new VmOutcome.DeviceFailed(outcome.get().message() + describeDevice(f));
        }
        return outcome.get();
      }
      if (exit instanceof VcpuExit.Intr && stopRequested.get()) {
        return new VmOutcome.TimedOut(timeout());
      }
    }
  }

  /** Which device failed, and the end of what it said on stderr. */
  private String describeDevice(VcpuExit.IoregionfdFailure f) {
    for (AttachedDevice a : attached) {
      if (a.spec().covers(f.pio(), f.address())) {
        DeviceProcess p = a.started().process();
        p.waitFor(Duration.ofMillis(200));
        String err = p.stderr().strip();
        int cut = err.lastIndexOf('\n', Math.max(0, err.length() - 400));
        return "; device "
            + a.spec().name()
            + " (pid "
            + p.pid()
            + ")"
            + (err.isEmpty() ? " wrote nothing on stderr" : " said: " + err.substring(cut + 1));
      }
    }
    return "";
  }

  private Duration timeout() {
    return config.timeout().orElse(Duration.ZERO);
  }

  /** Makes {@link #run()} return soon with a {@link VmOutcome.TimedOut}. Any thread. */
  public void stop() {
    stopRequested.set(true);
    vcpu.kick();
  }

  private Thread startTimer(Duration timeout) {
    return Thread.ofPlatform()
        .daemon()
        .name("toykvm-timeout")
        .start(
            () -> {
              try {
                Thread.sleep(timeout);
                stop();
              } catch (InterruptedException e) {
                // run() ended first
              }
            });
  }

  /** COM1, e.g. to feed it input in a test. */
  public Uart16550 com1() {
    return com1;
  }

  /**
   * Guest RAM, file offset = guest-physical address: for a harness that writes a parameter block
   * before {@link #run()} and reads the guest's results after it.
   */
  public MemorySegment ram() {
    return ram.segment();
  }

  /** The pids of the device processes, in the order the devices were attached. */
  public List<Integer> devicePids() {
    return attached.stream().map(a -> a.started().process().pid()).toList();
  }

  /** The PIO bus: for a harness that puts a device of its own on it before {@link #run()}. */
  public Bus pioBus() {
    return pio;
  }

  /** The exit handler, for its counters. */
  public ExitHandler exits() {
    return exits;
  }

  private void flushSerial() {
    try {
      serialOut.flush();
    } catch (IOException e) {
      log.debug("machine: cannot flush the serial output", e);
    }
  }

  /**
   * Closes the VM (and its vCPU), then the device processes (they see EOF and exit; one that does
   * not is killed), then unmaps guest memory.
   */
  @Override
  public void close() {
    vcpu.close();
    closeQuietly(vm);
    for (AttachedDevice a : attached) {
      a.started().process().closeCommands();
    }
    for (AttachedDevice a : attached) {
      a.started().process().waitFor(Duration.ofSeconds(2));
      closeQuietly(a.started().process());
      if (a.output() != null) {
        try {
          a.output().join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        a.started().output().close();
      }
    }
    closeQuietly(ram, rom);
  }

  private static void closeQuietly(AutoCloseable... resources) {
    for (AutoCloseable r : resources) {
      if (r == null) {
        continue;
      }
      try {
        r.close();
      } catch (Exception e) {
        log.debug("machine: closing {} failed", r, e);
      }
    }
  }
}
