/*
 * smp's assembly: the application processors' real-mode trampoline, the GDT every CPU uses, and
 * the two interrupt handlers (a fixed IPI and NMI), each counting per APIC ID.
 *
 * The BSP copies [ap_trampoline, ap_trampoline_end) to AP_BASE (0x70000) and starts the APs with
 * SIPI vector 0x70: they begin in real mode at CS=0x7000, IP=0, so the trampoline addresses its
 * own data relative to its start (DS=CS) and its linear addresses as AT(label) = AP_BASE +
 * (label - ap_trampoline).
 */
#define AP_BASE 0x70000
#define AT(label) (AP_BASE + (label - ap_trampoline))
#define LAPIC_ID 0xfee00020
#define LAPIC_EOI 0xfee000b0

        .text
        .code16
        .globl ap_trampoline, ap_trampoline_end
ap_trampoline:
        cli
        mov %cs, %ax                    /* 0x7000: DS-relative offsets from the copy's start */
        mov %ax, %ds
        lgdtl (tramp_gdtr - ap_trampoline)
        mov %cr0, %eax
        or $1, %eax
        mov %eax, %cr0
        ljmpl $0x08, $AT(ap_pm32)

        .code32
ap_pm32:
        mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov %ax, %fs
        mov %ax, %gs
        /* A stack of its own: slot = lock xadd(ap_stack_next, 1) + 1 (an AP restarted by INIT
           takes a new slot; there are AP_STACKS). */
        mov $1, %eax
        lock xadd %eax, ap_stack_next
        inc %eax
        shl $12, %eax
        add $ap_stacks, %eax
        mov %eax, %esp
        mov $ap_main, %eax
        call *%eax
1:      cli
        hlt
        jmp 1b

        .balign 8
tramp_gdt:
        .quad 0
        .quad 0x00cf9b000000ffff        /* 0x08: flat 32-bit code (accessed) */
        .quad 0x00cf93000000ffff        /* 0x10: flat data (accessed) */
tramp_gdtr:
        .word 3 * 8 - 1
        .long AT(tramp_gdt)
ap_trampoline_end:

/* The BSP loads the same GDT (its linked copy) so that selectors 0x08/0x10 mean the same on
   every CPU, whatever GDT the boot loader left. */
        .globl load_gdt
load_gdt:
        lgdtl bsp_gdtr
        ljmp $0x08, $2f
2:      mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov %ax, %fs
        mov %ax, %gs
        ret

        .section .rodata
        .balign 8
bsp_gdt:
        .quad 0
        .quad 0x00cf9b000000ffff
        .quad 0x00cf93000000ffff
bsp_gdtr:
        .word 3 * 8 - 1
        .long bsp_gdt

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
