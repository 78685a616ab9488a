/**
 * What a PCI device model hosted outside the VMM's configuration space needs to know of it, and how
 * it raises interrupts. Configuration space lives in the VMM ({@code dev.toykvm.vmm.pci}, as in
 * QEMU); a device model in its own process serves its BARs over ioregionfd, is told the
 * configuration bits that change its behaviour ({@link dev.toykvm.devices.pci.PciState}: bus
 * master, INTx disable, MSI-X enable and function mask), and raises MSI-X vectors and INTx through
 * {@link dev.toykvm.devices.pci.PciInterrupts}.
 */
package dev.toykvm.devices.pci;
