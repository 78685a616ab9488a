/*
 * smp's assembly: the two interrupt handlers the CPUs run (a fixed IPI and NMI), each counting per
 * APIC ID. The APs' trampoline and the shared GDT are the library's (lib/smp-tramp.S).
 */
#define LAPIC_ID 0xfee00020
#define LAPIC_EOI 0xfee000b0

        .text
/* Vector 0x40, a fixed IPI: count it for this CPU, EOI, return. */
        .globl ipi_isr
ipi_isr:
        push %eax
        mov LAPIC_ID, %eax
        shr $24, %eax
        lock incl ipi_hits(,%eax,4)
        movl $0, LAPIC_EOI
        pop %eax
        iret

/* Vector 2, NMI: count it for this CPU (no EOI for an NMI). */
        .globl nmi_isr
nmi_isr:
        push %eax
        mov LAPIC_ID, %eax
        shr $24, %eax
        lock incl nmi_hits(,%eax,4)
        pop %eax
        iret

        .section .note.GNU-stack, "", @progbits
