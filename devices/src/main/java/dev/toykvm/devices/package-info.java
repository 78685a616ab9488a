/**
 * Device models as plain classes behind one interface, {@link dev.toykvm.devices.BusDevice}: the
 * 16550 UART, the test device, the adapter that serves them over ioregionfd ({@link
 * dev.toykvm.devices.BusDeviceHandler}, {@link dev.toykvm.devices.DeviceMain}) and the bus that
 * routes accesses to them ({@link dev.toykvm.devices.bus}). Devices doing DMA see guest memory
 * through {@link dev.toykvm.devices.GuestMemory}; devices raising interrupts drive an {@link
 * dev.toykvm.devices.IrqLine}.
 *
 * <p>The PC platform devices ({@link dev.toykvm.devices.pc}; ports are the usual PC ones, which the
 * VMM maps):
 *
 * <table>
 *   <caption>PC platform devices</caption>
 *   <tr><th>Class</th><th>Kind</th><th>Where</th><th>What is modelled</th></tr>
 *   <tr><td>{@link dev.toykvm.devices.pc.FwCfg}</td><td>QEMU fw_cfg</td>
 *       <td>PIO 0x510-0x51b</td>
 *       <td>selector/data ports, DMA (read, skip, select; writes fail), signature, ID, RAM size,
 *       CPU count, file directory, files ({@code etc/e820} via
 *       {@link dev.toykvm.devices.pc.E820Entry})</td></tr>
 *   <tr><td>{@link dev.toykvm.devices.pc.CmosRtc}</td><td>MC146818 RTC + CMOS</td>
 *       <td>PIO 0x70-0x71</td>
 *       <td>time from a {@link java.time.Clock}, BCD/binary, 12/24 h, SET, UIP; status A-D;
 *       QEMU's memory-size and CPU bytes; NVRAM; IRQ 8 from PIE/AIE/UIE, cleared by a read of
 *       register C</td></tr>
 *   <tr><td>{@link dev.toykvm.devices.pc.PcTestdev}</td><td>QEMU pc-testdev</td>
 *       <td>PIO 0xe0-0xeb, 0x2000-0x2017; MMIO 0xff000000 (64 KiB)</td>
 *       <td>scratch register (two windows), flush-page port, IRQ-line ports, scratch memory</td></tr>
 *   <tr><td>{@link dev.toykvm.devices.pc.DebugConsole}</td><td>debug console</td>
 *       <td>PIO 0xe9 and 0x402 (two instances)</td>
 *       <td>writes to a sink, reads 0xe9</td></tr>
 *   <tr><td>{@link dev.toykvm.devices.DebugExitPort}</td><td>debug exit</td><td>PIO 0xf4</td>
 *       <td>raw status (default) or QEMU's isa-debug-exit {@code (value << 1) | 1}</td></tr>
 *   <tr><td>{@link dev.toykvm.devices.pc.SystemControlPort}</td><td>system control port A</td>
 *       <td>PIO 0x92</td><td>A20 gate bit (kept, not applied), fast reset</td></tr>
 *   <tr><td>{@link dev.toykvm.devices.pc.I8042}</td><td>8042 keyboard controller</td>
 *       <td>PIO 0x60, 0x64</td>
 *       <td>status, command byte, self tests, output port (A20, reset), 0xfe reset. No keyboard,
 *       no mouse, no IRQs</td></tr>
 * </table>
 *
 * <p>PCI device models ({@link dev.toykvm.devices.nvme}: an NVMe 1.4 controller) serve their BARs
 * and do DMA through {@link dev.toykvm.devices.GuestMemory} ({@link dev.toykvm.devices.GuestRam} in
 * a device process); their configuration space is the VMM's, and what they need of it arrives as a
 * {@link dev.toykvm.devices.pci.PciState}.
 */
package dev.toykvm.devices;
