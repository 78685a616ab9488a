/**
 * The in-kernel interrupt controllers and timer, as kvm.ko has them: the two cascaded 8259A PICs
 * ({@link dev.toykvm.kernel.irq.Pic8259Pair}), the 82093AA I/O APIC ({@link
 * dev.toykvm.kernel.irq.IoApic}), one xAPIC local APIC per vCPU ({@link
 * dev.toykvm.kernel.irq.Lapic}) and the 8254 PIT ({@link dev.toykvm.kernel.irq.Pit8254}).
 *
 * <p>Each is a plain state machine confined to one thread (the caller serialises), driven by
 * register accesses, input lines and an injectable clock ({@code LongSupplier} of nanoseconds);
 * what it produces (an interrupt request, an IPI, an EOI, an output edge) goes to a callback the
 * owner supplies. None of them is wired into the vCPU run loop yet.
 *
 * <p>What the guest does wrong is never an exception: an odd access is counted, logged once and
 * answered as the hardware would.
 */
package dev.toykvm.kernel.irq;
