/**
 * Device models as plain classes behind one interface, {@link dev.toykvm.devices.BusDevice}: the
 * 16550 UART, the test device, the adapter that serves them over ioregionfd ({@link
 * dev.toykvm.devices.BusDeviceHandler}, {@link dev.toykvm.devices.DeviceMain}) and the bus that
 * routes accesses to them ({@link dev.toykvm.devices.bus}).
 */
package dev.toykvm.devices;
