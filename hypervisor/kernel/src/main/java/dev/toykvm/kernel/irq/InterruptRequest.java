package dev.toykvm.kernel.irq;

/**
 * An interrupt message from the I/O APIC to the local APICs (KVM's {@code kvm_lapic_irq}).
 *
 * @param dest the 8-bit destination field (an APIC ID, or a logical destination address)
 * @param destMode how {@code dest} is read
 * @param deliveryMode the redirection entry's delivery mode
 * @param vector the 8-bit vector
 * @param level whether the line is asserted (always true for a message the I/O APIC sends)
 * @param trigger the redirection entry's trigger mode; a local APIC that accepts a level-triggered
 *     interrupt sets its TMR bit and broadcasts an EOI for it
 */
public record InterruptRequest(
    int dest,
    DestinationMode destMode,
    DeliveryMode deliveryMode,
    int vector,
    boolean level,
    TriggerMode trigger) {}
