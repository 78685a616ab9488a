/**
 * The PC platform devices that firmware and test kernels touch, written from QEMU's documentation
 * and the chips' datasheets: fw_cfg, the CMOS RTC, QEMU's pc-testdev, the debug console ports, port
 * 0x92 and a minimal i8042. The table of what each models is in {@link dev.toykvm.devices}. None is
 * wired to a machine here: the VMM chooses which a VM has and maps them.
 */
package dev.toykvm.devices.pc;
