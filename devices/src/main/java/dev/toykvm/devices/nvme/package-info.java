/**
 * An NVMe controller model (NVM Express Base Specification 1.4) for BAR0 of a PCI function: {@link
 * dev.toykvm.devices.nvme.NvmeController} (registers, doorbells, the admin and NVM command sets,
 * interrupts) over an {@link dev.toykvm.devices.nvme.NvmeDisk} (a file of 512-byte blocks),
 * configured by {@link dev.toykvm.devices.nvme.NvmeConfig}. The model is plain and single-threaded:
 * a doorbell write runs the new commands in the write, DMA goes through {@link
 * dev.toykvm.devices.GuestMemory}, interrupts through {@link dev.toykvm.devices.pci.PciInterrupts},
 * and the PCI function's state arrives as {@link dev.toykvm.devices.pci.PciState}. The same class
 * runs in a device process behind ioregionfd, in the VMM, or in a test.
 */
package dev.toykvm.devices.nvme;
