package dev.toykvm.vmm;

import dev.toykvm.devices.bus.Bus;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.vmm.pci.Pam;
import dev.toykvm.vmm.pci.PcChipset;
import dev.toykvm.vmm.pci.PciConfigIo;

/**
 * Puts the PC chipset ({@link PcChipset}: PCI configuration at 0xcf8-0xcff, the i440FX host bridge
 * and its PAM map of 0xc0000-0xfffff, the PIIX3 ISA bridge) on a {@code --kernel} or {@code --bios}
 * machine, and reserves its ranges so that no {@code --device} overlaps them.
 */
final class PciSetup {
  private PciSetup() {}

  /**
   * @param rom the firmware's memory, or {@code null} (a {@code --kernel} machine has no ROM)
   * @param firmware its geometry, or {@code null}
   */
  static PcChipset attach(
      VmFd vm,
      GuestMemoryFile ram,
      GuestMemoryFile rom,
      Firmware firmware,
      PcPlatform platform,
      Bus pio,
      Bus mmio,
      DeviceManager devices) {
    PcChipset chipset =
        new PcChipset(
            vm,
            MachineLayout.SLOT_PAM_FIRST,
            ram.segment(),
            rom == null
                ? null
                : rom.segment().asSlice(firmware.aliasOffset(), firmware.aliasSize()),
            rom == null ? 0 : firmware.aliasBase(),
            platform::requestReset);
    devices.reserve("the PCI configuration ports", true, PciConfigIo.PORT, PciConfigIo.SIZE);
    pio.insert("pci config", PciConfigIo.PORT, PciConfigIo.SIZE, chipset.configIo());
    devices.reserve(
        "the PAM window (shadow RAM, option ROMs, the firmware's alias)",
        false,
        Pam.BASE,
        Pam.SIZE);
    mmio.insert("pam", Pam.BASE, Pam.SIZE, chipset.pam().window());
    return chipset;
  }
}
