/**
 * The ioregionfd wire protocol of RFC v3 (2021): the 32-byte {@link
 * dev.toykvm.ioregionfd.wire.IoregionCommand} the kernel side sends and the 32-byte {@link
 * dev.toykvm.ioregionfd.wire.IoregionResponse} the device answers with, both little-endian.
 */
package dev.toykvm.ioregionfd.wire;
