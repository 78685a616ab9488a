/**
 * Device models as plain classes behind one interface, {@link dev.toykvm.devices.BusDevice}: the
 * 16550 UART and the bus that routes accesses to them ({@link dev.toykvm.devices.bus}).
 */
package dev.toykvm.devices;
