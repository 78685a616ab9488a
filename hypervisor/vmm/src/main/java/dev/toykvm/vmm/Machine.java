package dev.toykvm.vmm;

import static dev.toykvm.vmm.MachineLayout.*;

import dev.toykvm.devices.DebugExitPort;
import dev.toykvm.devices.DeviceKind;
import dev.toykvm.devices.Uart16550;
import dev.toykvm.devices.bus.Bus;
import dev.toykvm.devices.pc.DebugConsole;
import dev.toykvm.devices.pc.PcTestdev;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.vmm.boot.EntryState;
import dev.toykvm.vmm.boot.LoadSegment;
import dev.toykvm.vmm.boot.PcMemoryMap;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The toykvm PC built from a firmware image: the memory map and its vCPUs with their run loops (see
 * {@link MachineLayout} for the map); its devices are wired by a {@link DeviceManager}.
 *
 * <p>It owns the VM, the vCPUs, the devices and the guest memory and closes them in that order.
 * {@link #run()} is called from one thread, which runs vCPU 0; with {@code --cpus N} the other
 * vCPUs each get a VMM thread of their own ({@link VcpuThreads}), with an {@link ExitHandler} each,
 * and the first exit that ends the VM ends them all. With more than one vCPU the VM has the
 * in-kernel irqchip (the local APICs carry the INIT and SIPI that start the other vCPUs). {@link
 * #stop()} may be called from any thread.
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
  private final List<VcpuFd> vcpus;
  private final Bus pio = new Bus("pio");
  private final Bus mmio = new Bus("mmio");
  private final DeviceManager devices;
  private final DebugExitPort debugExit;
  private final PcPlatform platform;
  private final List<ExitHandler> exits;
  private final MachineConfig config;
  private final OutputStream serialOut;
  private final AtomicBoolean stopRequested = new AtomicBoolean();
  private final AtomicBoolean vmOver = new AtomicBoolean(); // a vCPU's exit ended the VM
  private dev.toykvm.vmm.pci.PcChipset chipset; // --kernel and --bios machines: set by PciSetup

  private Machine(
      MachineConfig config,
      GuestMemoryFile rom,
      GuestMemoryFile ram,
      VmFd vm,
      List<VcpuFd> vcpus,
      OutputStream serialOut,
      PrintStream trace,
      DebugExitPort.Mode debugExitMode,
      PcPlatform platform,
      Firmware firmware) {
    this.config = config;
    this.debugExit = new DebugExitPort(debugExitMode);
    this.platform = platform;
    this.rom = rom;
    this.ram = ram;
    this.vm = vm;
    this.vcpus = List.copyOf(vcpus);
    this.serialOut = serialOut;
    pio.insert("debug-exit", DEBUG_EXIT_PORT, 1, debugExit);
    this.exits =
        vcpus.stream().map(v -> new ExitHandler(v.id(), pio, mmio, debugExit, trace)).toList();
    this.devices =
        new DeviceManager(vm, pio, mmio, serialOut, config.deviceTimeout(), config.irqchip());
    devices.reserve("the debug-exit port", true, DEBUG_EXIT_PORT, 1);
    MachineRam.reserve(devices, config.memory());
    devices.guestRam(
        new PciPlumbing.GuestRamShare(
            ram.fd(), ram.segment(), MachineRam.dmaLayout(config.memory())));
    if (firmware != null) {
      devices.reserve("the ROM", false, firmware.highBase(), firmware.size());
      // Writes to the read-only slots exit to the VMM; a PC's ROM drops them.
      mmio.insert("rom", firmware.highBase(), firmware.size(), new RomWrites(firmware.bytes(), 0));
    }
    if (firmware != null && platform == null) {
      // Without a chipset the alias is plain ROM; with one, its PAM registers decide (PciSetup).
      devices.reserve("the ROM's low alias", false, firmware.aliasBase(), firmware.aliasSize());
      mmio.insert(
          "rom alias",
          firmware.aliasBase(),
          firmware.aliasSize(),
          new RomWrites(firmware.bytes(), firmware.aliasOffset()));
    }
    if (platform != null) {
      platform.attach(pio, devices);
    }
    if (config.irqchip()) {
      PcInterrupts.reserve(devices);
    }
  }

  /**
   * {@link #create(Kvm, MachineConfig, GuestImage, OutputStream, PrintStream, DebugExitPort.Mode)}
   * in raw mode.
   */
  public static Machine create(
      Kvm kvm, MachineConfig config, GuestImage image, OutputStream serialOut, PrintStream trace)
      throws IOException {
    return create(kvm, config, image, serialOut, trace, DebugExitPort.Mode.RAW);
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
      Kvm kvm,
      MachineConfig config,
      GuestImage image,
      OutputStream serialOut,
      PrintStream trace,
      DebugExitPort.Mode debugExitMode)
      throws IOException {
    GuestMemoryFile rom = null;
    GuestMemoryFile ram = null;
    VmFd vm = null;
    Firmware firmware = Firmware.of(image);
    try {
      rom = firmwareMemory(firmware);
      ram = MachineRam.create(config.memory());
      vm = kvm.createVm();
      mapFirmware(vm, rom, firmware, true);
      MachineRam.map(vm, ram, config.memory());
      List<VcpuFd> vcpus = createVcpus(kvm, vm, config);
      log.debug(
          "machine: image {} ({} bytes), {} MiB RAM, memory files {} and {}",
          image.name(),
          image.rom().length,
          config.memory() >> 20,
          rom.createdAs(),
          ram.createdAs());
      Machine machine =
          new Machine(config, rom, ram, vm, vcpus, serialOut, trace, debugExitMode, null, firmware);
      try {
        machine.devices.attachAll(config.allDevices());
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

  /**
   * Builds a PC for a kernel ({@code --kernel}): RAM with the PC holes (no ROM), the in-kernel
   * irqchip unless {@code --no-irqchip}, the kernel, its modules and the multiboot information (or
   * Linux's boot_params) placed as {@code kernel.plan()} says, vCPU 0 in the entry state of the
   * plan's protocol (any other vCPU waiting for SIPI), the platform devices ({@link PcPlatform})
   * and pc-testdev in its own process over ioregionfd.
   *
   * @throws IOException if guest memory cannot be created
   * @throws dev.toykvm.kvm.KvmException if the kernel side refuses the VM
   */
  public static Machine boot(
      Kvm kvm, MachineConfig config, KernelBoot kernel, OutputStream serialOut, PrintStream trace)
      throws IOException {
    GuestMemoryFile ram = null;
    VmFd vm = null;
    try {
      ram = MachineRam.create(config.memory());
      for (LoadSegment piece : kernel.plan().pieces()) {
        MemorySegment.copy(
            MemorySegment.ofArray(piece.bytes()),
            0,
            ram.segment(),
            piece.address(),
            piece.bytes().length);
      }
      vm = kvm.createVm();
      MachineRam.map(vm, ram, config.memory());
      List<VcpuFd> vcpus = createVcpus(kvm, vm, config);
      VcpuFd vcpu = vcpus.get(0);
      vcpu.setSregs(EntryState.sregs(vcpu.getSregs(), kernel.plan()));
      vcpu.setRegs(EntryState.regs(kernel.plan()));
      log.debug(
          "machine: kernel {}, entry 0x{}, {} MiB RAM",
          kernel.name(),
          Long.toHexString(kernel.plan().entry()),
          config.memory() >> 20);
      Machine machine =
          assemblePc(
              new PcParts(config, null, ram, vm, vcpus, null),
              withPcTestdev(config.allDevices()),
              kernel.memoryMap(),
              kernel.debugcon(),
              kernel.debugExit(),
              serialOut,
              trace);
      vm = null; // the machine owns it now, and closes it
      ram = null;
      if (config.irqchip()) {
        writeMpTable(kvm, machine);
      }
      return machine;
    } catch (IOException | RuntimeException e) {
      closeQuietly(vm, ram);
      throw e;
    }
  }

  /**
   * The MP table of a {@code --kernel} machine with local APICs ({@link MpTableSetup}), once its
   * PCI functions are set up; a machine whose table does not fit is closed.
   */
  private static void writeMpTable(Kvm kvm, Machine machine) {
    try {
      List<dev.toykvm.kvm.KvmCpuidEntry2> supported = kvm.getSupportedCpuid();
      List<List<dev.toykvm.kvm.KvmCpuidEntry2>> cpuid = new java.util.ArrayList<>();
      for (int i = 0; i < machine.vcpus.size(); i++) {
        cpuid.add(CpuidSetup.forVcpu(supported, i, machine.vcpus.size()));
      }
      log.debug(
          "machine: MP table at 0x{}: {}",
          Long.toHexString(MpTableSetup.BASE),
          MpTableSetup.write(
              machine.ram.segment(),
              machine.vcpus,
              cpuid,
              machine.chipset.bus(),
              machine.chipset.isaBridge()));
    } catch (IllegalArgumentException e) {
      machine.close();
      throw new DeviceException(e.getMessage());
    } catch (RuntimeException e) {
      machine.close();
      throw e;
    }
  }

  /** The machine's devices plus pc-testdev at 0xe0 over ioregionfd, unless a device is there. */
  private static List<DeviceSpec> withPcTestdev(List<DeviceSpec> devices) {
    List<DeviceSpec> all = new java.util.ArrayList<>(devices);
    if (all.stream().noneMatch(d -> d.covers(true, PcTestdev.PIO_BASE))) {
      all.add(
          new DeviceSpec(
              DeviceKind.PC_TESTDEV,
              null,
              true,
              PcTestdev.PIO_BASE,
              PcTestdev.PIO_SIZE,
              DeviceSpec.Route.IOREGIONFD,
              false,
              PcPlatform.PC_TESTDEV_NAME));
    }
    return all;
  }

  /**
   * Whether the debug console also takes port 0xe9 (QEMU's {@code -debugcon} port): only if no
   * device claims it. pc-testdev does (its byte register is 0xe8-0xeb, on QEMU too).
   */
  private static boolean debugconAtE9(List<DeviceSpec> devices) {
    return devices.stream().noneMatch(d -> d.covers(true, DebugConsole.BOCHS_PORT));
  }

  /**
   * Builds a PC that starts from firmware ({@code --bios}): the image read-only at the top of 4 GiB
   * and its last 128 KiB (all of it if smaller) read-only below 1 MiB ({@link Firmware}), RAM below
   * 640 KiB and from 1 MiB up to the memory size or 3 GiB, the rest from 4 GiB ({@link
   * MachineRam}), vCPU 0 in the reset state (CS:IP = F000:FFF0, CS base 0xffff0000), and the
   * platform devices of a {@code --kernel} boot ({@link PcPlatform}) without pc-testdev: the debug
   * console answers at 0x402 and, if no {@code --device} claims it, at 0xe9.
   *
   * @throws IOException if guest memory cannot be created
   * @throws dev.toykvm.kvm.KvmException if the kernel side refuses the VM
   */
  public static Machine firmware(
      Kvm kvm, MachineConfig config, FirmwareBoot boot, OutputStream serialOut, PrintStream trace)
      throws IOException {
    GuestMemoryFile rom = null;
    GuestMemoryFile ram = null;
    VmFd vm = null;
    Firmware firmware = boot.firmware();
    try {
      rom = firmwareMemory(firmware);
      ram = MachineRam.create(config.memory());
      vm = kvm.createVm();
      mapFirmware(vm, rom, firmware, false); // the alias is the chipset's (PAM)
      MachineRam.map(vm, ram, config.memory());
      List<VcpuFd> vcpus = createVcpus(kvm, vm, config); // in the reset state, as KVM creates them
      log.debug(
          "machine: firmware {} ({} KiB), {} MiB RAM",
          firmware.name(),
          firmware.size() >> 10,
          config.memory() >> 20);
      return assemblePc(
          new PcParts(config, rom, ram, vm, vcpus, firmware),
          config.allDevices(),
          PcMemoryMap.of(config.memory()),
          boot.debugcon(),
          boot.debugExit(),
          serialOut,
          trace);
    } catch (IOException | RuntimeException e) {
      closeQuietly(vm, ram, rom);
      throw e;
    }
  }

  /** What a PC machine is made of before its devices: a {@code --kernel} one has no ROM. */
  private record PcParts(
      MachineConfig config,
      GuestMemoryFile rom,
      GuestMemoryFile ram,
      VmFd vm,
      List<VcpuFd> vcpus,
      Firmware firmware) {}

  /**
   * The part the {@code --kernel} and {@code --bios} machines share: the PC platform devices, the
   * machine, its PCI chipset and the devices; a failure closes the machine (and what it owns).
   */
  private static Machine assemblePc(
      PcParts pc,
      List<DeviceSpec> all,
      List<dev.toykvm.vmm.boot.E820Entry> memoryMap,
      OutputStream debugcon,
      DebugExitPort.Mode debugExit,
      OutputStream serialOut,
      PrintStream trace) {
    MachineConfig config = pc.config();
    PcPlatform platform =
        new PcPlatform(
            pc.ram().segment(),
            memoryMap,
            config.memory(),
            debugcon,
            debugconAtE9(all),
            new VmIrqLines(pc.vm()),
            config.cpus());
    if (config.irqchip()) {
      platform.acpi();
    }
    Machine machine =
        new Machine(
            config,
            pc.rom(),
            pc.ram(),
            pc.vm(),
            pc.vcpus(),
            serialOut,
            trace,
            debugExit,
            platform,
            pc.firmware());
    try {
      machine.chipset =
          PciSetup.attach(
              pc.vm(),
              pc.ram(),
              pc.rom(),
              pc.firmware(),
              platform,
              machine.pio,
              machine.mmio,
              machine.devices);
      if (machine.chipset.pam() != null) {
        platform.shadow(machine.chipset.pam());
      }
      machine.devices.pci(machine.chipset.bus());
      machine.devices.pciInterruptWiring(
          new PciInterruptRoutes(
              machine.pio, machine.mmio, machine.devices::gsiTable, machine.chipset.isaBridge()));
      machine.devices.attachAll(all);
      if (pc.firmware() == null) {
        // --kernel: no firmware will place the BARs or program the PIRQ routes; the VMM does.
        log.debug(
            "machine: PCI set up: {}",
            dev.toykvm.vmm.pci.PciFirmwareSetup.configure(
                machine.chipset.bus(), machine.chipset.isaBridge()));
      }
    } catch (dev.toykvm.vmm.pci.PciException e) {
      machine.close();
      throw new DeviceException(e.getMessage());
    } catch (RuntimeException e) {
      machine.close();
      throw e;
    }
    return machine;
  }

  /** The firmware's bytes in a memory file of their own, which both ROM slots map. */
  private static GuestMemoryFile firmwareMemory(Firmware firmware) throws IOException {
    GuestMemoryFile rom = GuestMemoryFile.create("rom", firmware.size());
    MemorySegment.copy(
        MemorySegment.ofArray(firmware.bytes()), 0, rom.segment(), 0, firmware.size());
    return rom;
  }

  /**
   * One ROM mapping, two read-only slots, as QEMU maps the BIOS and its isa-bios alias; the alias
   * only if asked (a machine with a chipset maps it through the PAM registers).
   */
  private static void mapFirmware(VmFd vm, GuestMemoryFile rom, Firmware firmware, boolean alias) {
    map(vm, SLOT_ROM_HIGH, true, firmware.highBase(), rom.segment());
    if (!alias) {
      return;
    }
    map(
        vm,
        SLOT_ROM_LOW,
        true,
        firmware.aliasBase(),
        rom.segment().asSlice(firmware.aliasOffset(), firmware.aliasSize()));
  }

  /**
   * The vCPUs ({@code --cpus}), after the irqchip and the PIT unless {@code --no-irqchip} ({@link
   * PcInterrupts}), each local APIC's LINT0/LINT1 wired as on a PC; vCPU 0 boots, the others wait
   * for INIT and SIPI. Each gets its CPUID ({@link CpuidSetup}).
   */
  private static List<VcpuFd> createVcpus(Kvm kvm, VmFd vm, MachineConfig config) {
    if (config.irqchip()) {
      PcInterrupts.create(vm);
    }
    List<VcpuFd> vcpus = new java.util.ArrayList<>();
    for (int i = 0; i < config.cpus(); i++) {
      VcpuFd vcpu = vm.createVcpu(i);
      vcpus.add(vcpu);
      vcpu.setCpuid2(CpuidSetup.forVcpu(kvm.getSupportedCpuid(), i, config.cpus()));
      if (config.irqchip()) {
        PcInterrupts.wireLapic(vcpu);
      }
    }
    return vcpus;
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
    Thread watch = devices.pids().isEmpty() ? null : startDeviceWatch();
    try {
      if (vcpus.size() == 1) {
        return loop(0);
      }
      VmOutcome outcome = VcpuThreads.run(vcpus.size(), this::loop, this::endAll);
      if (outcome instanceof VmOutcome.GuestHalted(String detail)) {
        // Every loop has returned: no run() in progress, each vCPU can say where it stopped.
        return new VmOutcome.GuestHalted(detail + "; " + VcpuStates.describe(vcpus));
      }
      return outcome;
    } finally {
      if (timer != null) {
        timer.interrupt();
      }
      if (watch != null) {
        watch.interrupt();
      }
      flushSerial();
      log.debug(
          "machine: {} unclaimed port accesses, {} unclaimed MMIO accesses, {} odd UART accesses",
          exits.stream().mapToLong(ExitHandler::unclaimedPioAccesses).sum(),
          exits.stream().mapToLong(ExitHandler::unclaimedMmioAccesses).sum(),
          devices.com1() == null ? "-" : devices.com1().oddAccesses());
    }
  }

  /** vCPU {@code i}'s run loop: its outcome, or null once another vCPU has ended the VM. */
  private VmOutcome loop(int i) {
    VcpuFd vcpu = vcpus.get(i);
    ExitHandler handler = exits.get(i);
    while (true) {
      if (vmOver.get()) {
        return null;
      }
      // With the irqchip a Hlt (KVM_CAP_TOYKVM_HLT_IF0_EXIT) comes only once every vCPU is in a
      // hlt with interrupts disabled or waits for SIPI: none can wake another, so it ends the VM.
      VcpuExit exit = vcpu.run();
      Optional<VmOutcome> outcome = handler.handle(exit, vcpu::getRegs);
      if (outcome.isPresent()) {
        if (exit instanceof VcpuExit.IoregionfdFailure f) {
          return new VmOutcome.DeviceFailed(
              outcome.get().message() + devices.describe(f.pio(), f.address()));
        }
        return outcome.get();
      }
      if (platform != null && platform.resetRequested()) {
        return new VmOutcome.GuestReset();
      }
      // A device on route=vmm failed under the access just handled: the ioregionfd failure's twin.
      Optional<VmOutcome> failed = devices.failure();
      if (failed.isPresent()) {
        return failed.get();
      }
      // After stop(), whatever the exit: a kick (Intr), or an access whose device wait was woken.
      if (stopRequested.get()) {
        return new VmOutcome.TimedOut(timeout());
      }
    }
  }

  private Duration timeout() {
    return config.timeout().orElse(Duration.ZERO);
  }

  /** Makes {@link #run()} return soon with a {@link VmOutcome.TimedOut}. Any thread. */
  public void stop() {
    stopRequested.set(true);
    devices.wake();
    vcpus.forEach(VcpuFd::kick);
  }

  /** A vCPU's exit ended the VM: the other vCPUs' loops return (their run() is kicked). */
  private void endAll() {
    vmOver.set(true);
    devices.wake();
    vcpus.forEach(VcpuFd::kick);
  }

  /** How often the device watch looks for a device process that ended. */
  static final Duration DEVICE_WATCH_INTERVAL = Duration.ofMillis(50);

  /**
   * Looks every {@link #DEVICE_WATCH_INTERVAL} for a device process that ended while the VM runs
   * ({@link DeviceManager#checkEnded()}) and, if one did, kicks the vCPUs: their loops then end the
   * VM with it ({@code devices.failure()}, status 71). A child that dies gives no event the vCPU
   * waits on (its pipe is only seen closed at the next access), hence the look.
   */
  private Thread startDeviceWatch() {
    return Thread.ofPlatform()
        .daemon()
        .name("toykvm-device-watch")
        .start(
            () -> {
              try {
                while (!devices.checkEnded()) {
                  Thread.sleep(DEVICE_WATCH_INTERVAL);
                }
                devices.wake();
                vcpus.forEach(VcpuFd::kick);
              } catch (InterruptedException e) {
                // run() ended first
              } catch (RuntimeException e) {
                log.warn("machine: the device watch failed: {}", e.toString());
              }
            });
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
    return devices.com1();
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
    return devices.pids();
  }

  /** The PIO bus: for a harness that puts a device of its own on it before {@link #run()}. */
  public Bus pioBus() {
    return pio;
  }

  /** The PCI chipset of a {@code --kernel} or {@code --bios} machine (else null), for harnesses. */
  public dev.toykvm.vmm.pci.PcChipset chipset() {
    return chipset;
  }

  /** The devices, for tests (the PCI functions attached). */
  DeviceManager devices() {
    return devices;
  }

  /** The VM's and every vCPU's statistics now ({@code KVM_GET_STATS_FD}); any thread. */
  public StatsReport stats() {
    return new StatsReport(vm.getStats(), vcpus.stream().map(VcpuFd::getStats).toList());
  }

  /** vCPU 0's exit handler, for its counters. */
  public ExitHandler exits() {
    return exits.get(0);
  }

  private void flushSerial() {
    try {
      serialOut.flush();
    } catch (IOException e) {
      log.debug("machine: cannot flush the serial output", e);
    }
  }

  /**
   * Closes the VM (and its vCPU), then the devices ({@link DeviceManager#close()}: they see EOF and
   * exit; one that does not is killed with its process group), then unmaps guest memory.
   */
  @Override
  public void close() {
    vcpus.forEach(VcpuFd::close);
    closeQuietly(platform, vm, devices, ram, rom);
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
