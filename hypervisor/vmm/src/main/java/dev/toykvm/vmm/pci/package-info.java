/**
 * PCI in the VMM, as in QEMU: configuration mechanism #1 ({@link dev.toykvm.vmm.pci.PciConfigIo} at
 * ports 0xcf8-0xcff), the bus of functions ({@link dev.toykvm.vmm.pci.PciBus}), the type 0
 * configuration header with BARs and capabilities ({@link dev.toykvm.vmm.pci.PciDevice}), the PC
 * chipset's two functions ({@link dev.toykvm.vmm.pci.HostBridge}, the i440FX with its PAM shadow
 * RAM, and {@link dev.toykvm.vmm.pci.IsaBridge}, the PIIX3), and the routes that follow a BAR when
 * the guest moves it ({@link dev.toykvm.vmm.pci.IoregionBarRoutes}, {@link
 * dev.toykvm.vmm.pci.BusBarRoutes}). Configuration space lives here; accesses to BARs never do.
 */
package dev.toykvm.vmm.pci;
