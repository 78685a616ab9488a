/**
 * The VMM: the toykvm PC ({@link dev.toykvm.vmm.Machine}, {@link dev.toykvm.vmm.MachineLayout}),
 * exit handling ({@link dev.toykvm.vmm.ExitHandler}) and the {@code toykvm} command line ({@link
 * dev.toykvm.cli.Main}). It programs against {@code dev.toykvm.kvm} only, as a VMM programs against
 * {@code linux/kvm.h}; it never sees the kernel side's classes (a test enforces it).
 */
package dev.toykvm.vmm;
