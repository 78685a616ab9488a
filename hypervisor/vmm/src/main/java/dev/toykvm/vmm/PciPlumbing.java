package dev.toykvm.vmm;

import dev.toykvm.devices.GuestRam;
import dev.toykvm.devices.pci.PciState;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.PosixException;
import dev.toykvm.vmm.pci.BarListener;
import dev.toykvm.vmm.pci.NvmeFunction;
import dev.toykvm.vmm.pci.PciBus;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@link DeviceManager} needs to put PCI functions on the machine: guest RAM to share, where a
 * function goes on bus 0, the GSIs of its MSI-X vectors, its INTx pin's route after firmware
 * set-up, the state messages to its process, and the hook where the VMM's PCI interrupt routing
 * connects. One per machine, used on the thread that builds it (and the state messages on the vCPU
 * thread that wrote the configuration register).
 */
final class PciPlumbing {
  private static final Logger log = LoggerFactory.getLogger(PciPlumbing.class);

  private final Set<Integer> namedGsis = new HashSet<>();
  private int nextMsixGsi = FIRST_MSIX_GSI;

  /** The GSIs the {@code --device} options name: never given to an MSI-X vector. */
  PciPlumbing(List<DeviceSpec> specs) {
    for (DeviceSpec s : specs) {
      namedGsis.addAll(s.irqs());
      namedGsis.addAll(s.edgeIrqs());
      s.msis().forEach(m -> namedGsis.add(m.gsi()));
    }
  }

  /** The first GSI given to an MSI-X vector: above the I/O APIC's 24 pins. */
  static final int FIRST_MSIX_GSI = 24;

  /** The first device number a PCI function may take (00:00.0 i440FX, 00:01.0 PIIX3). */
  static final int FIRST_PCI_DEVICE = 3;

  /** SeaBIOS's (and the VMM's firmware set-up's) PIRQA-D routes: IRQ 10, 10, 11, 11. */
  private static final int[] PIRQ_IRQS = {10, 10, 11, 11};

  /**
   * Guest RAM as a device doing DMA gets it: the machine's guest memory file (its fd for a device
   * process, its mapping for a model in the VMM) and where RAM is in it.
   */
  record GuestRamShare(int fd, MemorySegment file, List<GuestRam.Range> layout) {}

  /**
   * A PCI function the manager put on the bus, with its irqfds (none for {@code route=in-process}).
   *
   * @param slot its device number on bus 0
   * @param vectors its MSI-X vectors' irqfds, in vector order
   * @param intx its INTx irqfd, or null
   */
  record PciAttached(
      DeviceSpec spec,
      NvmeFunction function,
      int slot,
      List<DeviceIrqfds.InterruptFd> vectors,
      DeviceIrqfds.InterruptFd intx) {}

  /**
   * Where a PCI function's interrupts go ({@link PciInterruptRoutes}, D's routing): called once per
   * PCI function before it goes on the bus; returns the listener of its BAR4 (the MSI-X table and
   * PBA, served by the VMM: e.g. a {@code BusBarRoutes} to D's {@code MsixTable}) and takes over
   * its interrupts: the vectors' irqfds are registered while the guest's table entry is enabled and
   * unmasked (D's {@code MsixVectors} over {@code function.msixCapability()}, told of configuration
   * writes with {@code function.afterConfigWrite(vectors::configChanged)}), INTx's on the GSI the
   * PIIX3 routes the pin to (D's {@code IntxRoute} with the slot and pin 1). The GSIs in the device
   * process's {@code --irqfd} arguments are only its names for the lines. {@link #NONE} leaves BAR4
   * unrouted and the irqfds unregistered (the device's interrupts go nowhere).
   */
  interface PciInterruptWiring {
    BarListener attach(VmFd vm, PciAttached function);

    PciInterruptWiring NONE = (vm, function) -> BarListener.NONE;
  }

  /** The IRQ the PIIX3 routes INTA# of device {@code slot} to after firmware set-up. */
  static int intxIrq(int slot) {
    return PIRQ_IRQS[slot & 3]; // PIRQ (slot + pin - 1) & 3, pin INTA = 1
  }

  /** The first free device number from {@link #FIRST_PCI_DEVICE}. */
  static int freeSlot(PciBus bus, DeviceSpec spec) {
    for (int d = FIRST_PCI_DEVICE; d < PciBus.DEVICES; d++) {
      if (bus.function(d << 3) == null) {
        return d;
      }
    }
    throw new DeviceException("cannot place device " + spec.name() + ": PCI bus 0 is full");
  }

  /** The next GSI from {@link #FIRST_MSIX_GSI} that no {@code --device} names. */
  int allocateGsi() {
    while (namedGsis.contains(nextMsixGsi)) {
      nextMsixGsi++;
    }
    if (nextMsixGsi > DeviceSpec.MAX_GSI) {
      throw new DeviceException("cannot allocate a GSI for an MSI-X vector: all are taken");
    }
    return nextMsixGsi++;
  }

  /**
   * Writes the new state on the device's state pipe, before the guest's configuration write
   * completes. A device that died or stopped reading is not the guest's doing: logged (its next
   * access fails and ends the VM).
   */
  static void sendState(DeviceSpec spec, DeviceLauncher.Started started, PciState s) {
    byte[] message = s.encode();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(message.length);
      MemorySegment.copy(MemorySegment.ofArray(message), 0, buf, 0, message.length);
      long n = Fds.write(started.stateFd(), buf, message.length);
      if (n != message.length) {
        log.warn("devices: {}: the PCI state {} was cut short ({} bytes)", spec.name(), s, n);
      }
    } catch (PosixException e) {
      log.warn("devices: {}: cannot send the PCI state {}: {}", spec.name(), s, e.getMessage());
    }
    log.debug("devices: {}: PCI state {}", spec.name(), s);
  }
}
