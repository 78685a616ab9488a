/**
 * The ioregionfd wire protocol (RFC v3, 2021): 32-byte commands and responses, the kernel-side
 * channel and the device-side server loop. Filled in by the ioregionfd issue.
 */
package dev.toykvm.ioregionfd;
