/**
 * The kernel side of ioregionfd: sending an access to a device process and waiting for its answer,
 * one vCPU at a time per read fd, interruptible by a kick and resumable afterwards.
 */
package dev.toykvm.ioregionfd.channel;
