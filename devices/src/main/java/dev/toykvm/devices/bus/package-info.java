/**
 * One bus abstraction for port I/O and MMIO: ranges are checked when a device is inserted (no zero
 * length, no overflow past 2^64, no overlap) and an address is looked up to a device and an offset.
 */
package dev.toykvm.devices.bus;
