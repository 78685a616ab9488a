/**
 * The ioregionfd wire protocol (RFC v3, 2021): 32-byte commands and responses, the kernel-side
 * channel and the device-side server loop ({@link dev.toykvm.ioregionfd.IoregionServer} serving an
 * {@link dev.toykvm.ioregionfd.IoregionHandler}).
 */
package dev.toykvm.ioregionfd;
