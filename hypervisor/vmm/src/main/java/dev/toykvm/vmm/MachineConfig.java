package dev.toykvm.vmm;

import dev.toykvm.devices.DeviceKind;
import dev.toykvm.kvm.KvmConstants;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the user chose for one VM.
 *
 * @param memory total guest memory in bytes: RAM is 0..640 KiB plus 1 MiB..{@code memory}
 * @param trace print every exit to the trace stream as it happens
 * @param timeout stop the guest after this long, if present
 * @param devices the {@code --device} specs, in order
 * @param com1Route how the default COM1 UART is reached, unless {@code devices} puts a device at
 *     port 0x3f8
 * @param deviceTimeout how long the VMM waits for a device process's answer on {@code route=vmm}
 *     before the VM ends with a device failure (the kernel side has its own setting for ioregionfd,
 *     {@code toykvm.ioregionfd.timeout.ms}; {@code toykvm run --device-timeout} sets both)
 * @param irqchip the in-kernel irqchip and PIT ({@link PcInterrupts}; {@code hlt} waits for an
 *     interrupt); false for {@code --no-irqchip}: no interrupt controller, {@code KVM_EXIT_HLT}
 * @param cpus how many vCPUs, {@value #MIN_CPUS} to {@value #MAX_CPUS} ({@code --cpus}): vCPU 0
 *     boots, the others wait for INIT and SIPI from it
 */
public record MachineConfig(
    long memory,
    boolean trace,
    Optional<Duration> timeout,
    List<DeviceSpec> devices,
    DeviceSpec.Route com1Route,
    Duration deviceTimeout,
    boolean irqchip,
    int cpus) {

  public static final int MIN_CPUS = 1;

  /** KVM_CAP_MAX_VCPUS of toykvm's kernel side. */
  public static final int MAX_CPUS = 8;

  /**
   * The system property that makes the VMM's stdin the default COM1's serial input ({@code
   * input=stdin}) when it is "true": {@code toykvm}'s {@code main} sets it; a program that embeds
   * the VMM (or a test harness, whose stdin is not a user's) leaves it unset.
   */
  public static final String COM1_STDIN_PROPERTY = "toykvm.com1.stdin";

  /** The default {@link #deviceTimeout}: the kernel side's default for ioregionfd too. */
  public static final Duration DEFAULT_DEVICE_TIMEOUT = Duration.ofSeconds(5);

  /**
   * @throws IllegalArgumentException if the memory size is not a multiple of 4 KiB between {@link
   *     MachineLayout#MIN_MEMORY} and {@link MachineLayout#MAX_MEMORY}, or the device timeout is
   *     not positive, or {@code cpus} is not 1 to 8, or above 1 without the irqchip
   */
  public MachineConfig {
    if (cpus < MIN_CPUS || cpus > MAX_CPUS) {
      throw new IllegalArgumentException(
          "the number of CPUs must be " + MIN_CPUS + " to " + MAX_CPUS + ", not " + cpus);
    }
    if (cpus > 1 && !irqchip) {
      throw new IllegalArgumentException(
          "more than one CPU needs the irqchip: the other CPUs are started with INIT and SIPI"
              + " through the local APICs");
    }
    if (memory % KvmConstants.PAGE_SIZE != 0
        || memory < MachineLayout.MIN_MEMORY
        || memory > MachineLayout.MAX_MEMORY) {
      throw new IllegalArgumentException(
          "memory must be a multiple of 4 KiB from 2 MiB to 32 GiB, not " + memory + " bytes");
    }
    devices = List.copyOf(devices);
    if (deviceTimeout.isNegative() || deviceTimeout.isZero()) {
      throw new IllegalArgumentException("the device timeout must be positive: " + deviceTimeout);
    }
  }

  /** With the irqchip, one vCPU. */
  public MachineConfig(
      long memory,
      boolean trace,
      Optional<Duration> timeout,
      List<DeviceSpec> devices,
      DeviceSpec.Route com1Route,
      Duration deviceTimeout) {
    this(memory, trace, timeout, devices, com1Route, deviceTimeout, true, MIN_CPUS);
  }

  /** One vCPU, with or without the irqchip. */
  public MachineConfig(
      long memory,
      boolean trace,
      Optional<Duration> timeout,
      List<DeviceSpec> devices,
      DeviceSpec.Route com1Route,
      Duration deviceTimeout,
      boolean irqchip) {
    this(memory, trace, timeout, devices, com1Route, deviceTimeout, irqchip, MIN_CPUS);
  }

  /** The same machine with {@code n} vCPUs. */
  public MachineConfig withCpus(int n) {
    return new MachineConfig(memory, trace, timeout, devices, com1Route, deviceTimeout, irqchip, n);
  }

  /** With the default device timeout. */
  public MachineConfig(
      long memory,
      boolean trace,
      Optional<Duration> timeout,
      List<DeviceSpec> devices,
      DeviceSpec.Route com1Route) {
    this(memory, trace, timeout, devices, com1Route, DEFAULT_DEVICE_TIMEOUT);
  }

  /** Without {@code --device}: COM1 in the VMM's own process. */
  public MachineConfig(long memory, boolean trace, Optional<Duration> timeout) {
    this(memory, trace, timeout, List.of(), DeviceSpec.Route.IN_PROCESS);
  }

  /**
   * Every device of the machine but the debug-exit port: COM1 first (the default one, unless a
   * {@code --device} sits at 0x3f8; on IRQ 4, with the VMM's stdin as its input if {@link
   * #COM1_STDIN_PROPERTY} says so and it has a process), then the {@code --device}s.
   */
  public List<DeviceSpec> allDevices() {
    List<DeviceSpec> all = new ArrayList<>();
    boolean com1Given = devices.stream().anyMatch(d -> d.covers(true, MachineLayout.COM1_BASE));
    if (!com1Given) {
      boolean stdin =
          Boolean.getBoolean(COM1_STDIN_PROPERTY) && com1Route != DeviceSpec.Route.IN_PROCESS;
      all.add(
          new DeviceSpec(
                  DeviceKind.UART, null, true, MachineLayout.COM1_BASE, 8, com1Route, false, "com1")
              .withStdin(stdin));
    }
    all.addAll(devices);
    return all;
  }

  /** 16 MiB, no trace, no timeout, COM1 in the VMM. */
  public static MachineConfig defaults() {
    return new MachineConfig(MachineLayout.DEFAULT_MEMORY, false, Optional.empty());
  }
}
