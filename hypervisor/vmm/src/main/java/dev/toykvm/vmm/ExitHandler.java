package dev.toykvm.vmm;

import dev.toykvm.devices.BusDevice;
import dev.toykvm.devices.DebugExitPort;
import dev.toykvm.devices.bus.Bus;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.VcpuExit;
import java.io.PrintStream;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the VMM does with each {@link VcpuExit}: one exhaustive {@code switch}. It is a plain
 * function of the exit, the buses and the vCPU's registers, so it is tested with made-up exits and
 * no CPU.
 *
 * <p>Port I/O goes to the PIO bus and MMIO to the MMIO bus; string I/O ({@code rep ins/outs}, one
 * exit for many elements) is one device access per element, in the guest's order. An access nobody
 * claims is answered as an empty ISA/PCI bus answers it: a read gives all-ones, a write is dropped.
 * Such accesses are counted and each distinct address is logged once (the first {@value
 * #MAX_LOGGED_ADDRESSES}), so a guest that polls a missing device neither floods the log nor ends
 * the VM.
 *
 * <p>One instance serves one vCPU and is used from that vCPU's VMM thread only; the devices it
 * reaches are shared by every vCPU's handler, so each access holds the device's monitor.
 */
public final class ExitHandler {
  private static final Logger log = LoggerFactory.getLogger(ExitHandler.class);

  static final int MAX_LOGGED_ADDRESSES = 16;
  private static final long RFLAGS_IF = 1L << 9;

  private final int vcpuId;
  private final Bus pio;
  private final Bus mmio;
  private final DebugExitPort debugExit;
  private final PrintStream trace;
  private final Set<String> loggedUnclaimed = new HashSet<>();
  private long unclaimedPio;
  private long unclaimedMmio;

  /**
   * @param trace where to print one line per exit, or {@code null} for no trace
   */
  public ExitHandler(int vcpuId, Bus pio, Bus mmio, DebugExitPort debugExit, PrintStream trace) {
    this.vcpuId = vcpuId;
    this.pio = pio;
    this.mmio = mmio;
    this.debugExit = debugExit;
    this.trace = trace;
  }

  /**
   * Handles one exit.
   *
   * @param regs the vCPU's registers, read only when an exit needs them (HLT)
   * @return the outcome if the VM is over, empty if the vCPU should run on
   */
  public Optional<VmOutcome> handle(VcpuExit exit, Supplier<KvmRegs> regs) {
    return switch (exit) {
      case VcpuExit.IoOut out -> {
        boolean claimed = write(pio, out.port(), out.size(), out.data());
        trace(
            "IO out port=%s size=%d data=%s%s",
            hex(out.port()), out.size(), hex(out.data()), claimed ? "" : " (unclaimed)");
        yield debugExitStatus();
      }
      case VcpuExit.IoIn in -> {
        Optional<Bus.Match> m = pio.lookup(in.port());
        long value =
            m.isPresent() ? read(m.get(), in.size()) : unclaimedRead(pio, in.port(), in.size());
        in.setData(value);
        trace(
            "IO in port=%s size=%d -> %s%s",
            hex(in.port()), in.size(), hex(value), m.isPresent() ? "" : " (unclaimed)");
        yield Optional.empty();
      }
      case VcpuExit.IoOutString out -> {
        boolean claimed = true;
        for (int i = 0; i < out.count(); i++) {
          claimed &= write(pio, out.port(), out.size(), out.element(i));
        }
        trace(
            "IO out string port=%s size=%d count=%d data=%s%s",
            hex(out.port()),
            out.size(),
            out.count(),
            HexFormat.of().formatHex(out.data()),
            claimed ? "" : " (unclaimed)");
        yield debugExitStatus();
      }
      case VcpuExit.IoInString in -> {
        Optional<Bus.Match> m = pio.lookup(in.port());
        for (int i = 0; i < in.count(); i++) {
          in.setElement(
              i,
              m.isPresent() ? read(m.get(), in.size()) : unclaimedRead(pio, in.port(), in.size()));
        }
        trace(
            "IO in string port=%s size=%d count=%d -> %s%s",
            hex(in.port()),
            in.size(),
            in.count(),
            HexFormat.of().formatHex(in.data()),
            m.isPresent() ? "" : " (unclaimed)");
        yield Optional.empty();
      }
      case VcpuExit.MmioWrite w -> {
        boolean claimed = write(mmio, w.address(), w.size(), w.data());
        trace(
            "MMIO write addr=%s size=%d data=%s%s",
            hex(w.address()), w.size(), hex(w.data()), claimed ? "" : " (unclaimed)");
        yield debugExitStatus();
      }
      case VcpuExit.MmioRead r -> {
        Optional<Bus.Match> m = mmio.lookup(r.address());
        long value =
            m.isPresent() ? read(m.get(), r.size()) : unclaimedRead(mmio, r.address(), r.size());
        r.setData(value);
        trace(
            "MMIO read addr=%s size=%d -> %s%s",
            hex(r.address()), r.size(), hex(value), m.isPresent() ? "" : " (unclaimed)");
        yield Optional.empty();
      }
      case VcpuExit.Hlt h -> {
        KvmRegs r = regs.get();
        trace("HLT rip=%s rflags=%s", hex(r.rip()), hex(r.rflags()));
        // With the irqchip, only a hlt with IF=0 exits (KVM_CAP_TOYKVM_HLT_IF0_EXIT), and only
        // when every other vCPU is parked too: no NMI or INIT can come, so it never ends. Without
        // (--no-irqchip), no interrupt ever comes.
        String why =
            (r.rflags() & RFLAGS_IF) == 0
                ? "hlt with interrupts disabled at rip="
                    + hex(r.rip())
                    + ": it can never wake up (no vCPU left to send it an NMI or INIT)"
                : "hlt at rip="
                    + hex(r.rip())
                    + " waits for an interrupt, and without an interrupt controller"
                    + " (--no-irqchip) none can come";
        yield Optional.of(new VmOutcome.GuestHalted(why));
      }
      case VcpuExit.IrqWindowOpen w -> {
        // Only if requested, and this VMM has no userspace PIC that would request it.
        trace("IRQ_WINDOW_OPEN");
        yield Optional.empty();
      }
      case VcpuExit.Shutdown s -> {
        trace("SHUTDOWN");
        yield Optional.of(new VmOutcome.TripleFault());
      }
      case VcpuExit.InternalError e -> {
        trace("INTERNAL_ERROR suberror=%d %s", e.suberror(), e.description());
        yield Optional.of(
            new VmOutcome.GuestError(
                "the vCPU stopped with an internal error (KVM_EXIT_INTERNAL_ERROR, suberror "
                    + e.suberror()
                    + "): "
                    + e.description()));
      }
      case VcpuExit.FailEntry f -> {
        trace("FAIL_ENTRY reason=%s %s", hex(f.hardwareEntryFailureReason()), f.description());
        yield Optional.of(
            new VmOutcome.GuestError(
                "the vCPU could not be entered (KVM_EXIT_FAIL_ENTRY, reason "
                    + hex(f.hardwareEntryFailureReason())
                    + "): "
                    + f.description()));
      }
      case VcpuExit.IoregionfdFailure f -> {
        trace(
            "IOREGIONFD_FAILURE %s %s addr=%s size=%d region=[%s, +%s) %s: %s",
            f.pio() ? "pio" : "mmio",
            f.write() ? "write" : "read",
            hex(f.address()),
            f.size(),
            hex(f.regionStart()),
            hex(f.regionSize()),
            f.errno(),
            f.description());
        yield Optional.of(
            new VmOutcome.DeviceFailed(
                "a device process failed (KVM_EXIT_IOREGIONFD_FAILURE, "
                    + f.errno()
                    + ") on a "
                    + (f.write() ? "write to " : "read of ")
                    + (f.pio() ? "port " : "address ")
                    + hex(f.address())
                    + ": "
                    + f.description()));
      }
      case VcpuExit.Intr i -> {
        // A kick: the run loop decides whether to stop (timeout) or run on.
        trace("INTR");
        yield Optional.empty();
      }
    };
  }

  /** Accesses to I/O ports that no device claims, since this handler was made. */
  public long unclaimedPioAccesses() {
    return unclaimedPio;
  }

  /** Accesses to guest-physical addresses that neither RAM, ROM nor a device claims. */
  public long unclaimedMmioAccesses() {
    return unclaimedMmio;
  }

  private Optional<VmOutcome> debugExitStatus() {
    return debugExit.status().isPresent()
        ? Optional.of(new VmOutcome.GuestExited(debugExit.status().getAsInt()))
        : Optional.empty();
  }

  /**
   * Device accesses lock the device: with {@code --cpus N}, N VMM threads reach the same device
   * objects, which are written for one caller at a time (and a {@code RemoteDevice} has one request
   * in flight per pipe).
   */
  private static long read(Bus.Match m, int size) {
    synchronized (m.device()) {
      return m.device().read(m.offset(), size) & BusDevice.allOnes(size);
    }
  }

  private boolean write(Bus bus, long address, int size, long data) {
    Optional<Bus.Match> m = bus.lookup(address);
    if (m.isEmpty()) {
      unclaimed(bus, "write of " + hex(data) + " to", address);
      return false;
    }
    synchronized (m.get().device()) {
      m.get().device().write(m.get().offset(), size, data & BusDevice.allOnes(size));
    }
    return true;
  }

  private long unclaimedRead(Bus bus, long address, int size) {
    unclaimed(bus, "read from", address);
    return BusDevice.allOnes(size);
  }

  private void unclaimed(Bus bus, String what, long address) {
    if (bus == pio) {
      unclaimedPio++;
    } else {
      unclaimedMmio++;
    }
    String key = bus.name() + address;
    if (loggedUnclaimed.size() < MAX_LOGGED_ADDRESSES && loggedUnclaimed.add(key)) {
      log.info(
          "vcpu{}: {} {} address {} that no device claims: reads give all-ones, writes are"
              + " ignored (logged once per address)",
          vcpuId,
          bus.name(),
          what,
          hex(address));
    }
  }

  private void trace(String format, Object... args) {
    if (trace != null) {
      trace.println("[vcpu" + vcpuId + "] " + String.format(format, args));
    }
  }

  private static String hex(long value) {
    return "0x" + Long.toHexString(value);
  }
}
