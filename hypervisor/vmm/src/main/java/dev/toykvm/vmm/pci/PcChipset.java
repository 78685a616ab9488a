package dev.toykvm.vmm.pci;

import dev.toykvm.kvm.VmFd;
import java.lang.foreign.MemorySegment;

/**
 * The PC's PCI side as QEMU's {@code pc} machine (i440FX + PIIX3) has it: bus 0 behind
 * configuration mechanism #1 at 0xcf8-0xcff, the i440FX host bridge at 00:00.0 with the PAM shadow
 * map of 0xc0000-0xfffff, and the PIIX3 ISA bridge at 00:01.0. The machine puts {@link #configIo()}
 * on its PIO bus at {@link PciConfigIo#PORT} and {@link Pam#window()} on its MMIO bus at {@link
 * Pam#BASE}; more functions go on {@link #bus()}.
 */
public final class PcChipset {
  /** The host bridge's and the ISA bridge's device numbers on bus 0. */
  public static final int HOST_BRIDGE_DEVICE = 0;

  public static final int ISA_BRIDGE_DEVICE = 1;

  private final PciBus bus = new PciBus();
  private final PciConfigIo configIo;
  private final Pam pam;
  private final IsaBridge isa = new IsaBridge();

  /**
   * Maps 0xc0000-0xfffff as after reset (the firmware's copy below 1 MiB, if any).
   *
   * @param firstPamSlot the first of {@link Pam#slots()} memory slots the PAM map may use
   * @param ram guest RAM, file offset = guest-physical address
   * @param rom the firmware's bytes below 1 MiB (from {@code romBase} to 1 MiB), or {@code null}
   * @param reset called when the guest resets the machine through port 0xcf9
   */
  public PcChipset(
      VmFd vm,
      int firstPamSlot,
      MemorySegment ram,
      MemorySegment rom,
      long romBase,
      Runnable reset) {
    this.pam = new Pam(vm, firstPamSlot, ram, rom, romBase);
    bus.add(HOST_BRIDGE_DEVICE, 0, new HostBridge(pam));
    bus.add(ISA_BRIDGE_DEVICE, 0, isa);
    this.configIo = new PciConfigIo(bus, reset);
  }

  public PciBus bus() {
    return bus;
  }

  public PciConfigIo configIo() {
    return configIo;
  }

  /** The PIIX3, whose PIRQ routes {@link IntxRoute}s follow. */
  public IsaBridge isaBridge() {
    return isa;
  }

  public Pam pam() {
    return pam;
  }
}
