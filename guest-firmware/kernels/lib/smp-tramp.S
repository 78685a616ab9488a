/*
 * The application processors' real-mode trampoline and the GDT every CPU shares (see smp.h).
 *
 * smp_prepare copies [smp_trampoline, smp_trampoline_end) to SMP_AP_BASE (0x70000) and the APs
 * are started with SIPI vector 0x70: they begin in real mode at CS=0x7000, IP=0, so the trampoline
 * addresses its own data relative to its start (DS=CS) and its linear addresses as
 * AT(label) = AP_BASE + (label - smp_trampoline).
 */
#define AP_BASE 0x70000
#define AT(label) (AP_BASE + (label - smp_trampoline))

        .text
        .code16
        .globl smp_trampoline, smp_trampoline_end
smp_trampoline:
        cli
        mov %cs, %ax                    /* 0x7000: DS-relative offsets from the copy's start */
        mov %ax, %ds
        lgdtl (tramp_gdtr - smp_trampoline)
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
        /* A stack of its own: slot = lock xadd(smp_stack_next, 1) + 1 (an AP restarted by INIT
           takes a new slot; there are SMP_AP_STACKS). */
        mov $1, %eax
        lock xadd %eax, smp_stack_next
        inc %eax
        shl $12, %eax
        add $smp_stacks, %eax
        mov %eax, %esp
        mov smp_ap_main, %eax
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
smp_trampoline_end:

/* The BSP loads the same GDT (its linked copy) so that selectors 0x08/0x10 mean the same on
   every CPU, whatever GDT the boot loader left. */
        .globl smp_load_gdt
smp_load_gdt:
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

        .section .note.GNU-stack, "", @progbits
