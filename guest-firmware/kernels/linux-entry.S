/*
 * linuxtest's protected-mode entry points, at the start of the protected-mode part (code32_start):
 * the 32-bit boot protocol's at +0, the 64-bit one's at +0x200. Each records the entry state the
 * protocol promises (registers, selectors, flags, control registers) in `entry`, then both go on
 * in 32-bit protected mode (the 64-bit entry leaves long mode first), clear the .bss (as Linux's
 * startup does: a loader need not), set a stack and call lmain(boot_params, &entry).
 */
        .section .text.entry, "ax"
        .code32
        .globl startup_32
startup_32:
        mov %esi, entry + 4
        mov %ebx, entry + 8
        mov %ebp, entry + 12
        mov %edi, entry + 16
        mov %cs, entry + 24
        mov %ds, entry + 28
        mov %es, entry + 32
        mov %ss, entry + 36
        mov %cr0, %eax
        mov %eax, entry + 40
        mov $stack_top, %esp
        pushf
        pop %eax
        mov %eax, entry + 20
        jmp common

        .org 0x200
        .code64
startup_64:
        mov %esi, entry + 4(%rip)
        mov %ebx, entry + 8(%rip)
        mov %ebp, entry + 12(%rip)
        mov %edi, entry + 16(%rip)
        mov %cs, entry + 24(%rip)
        mov %ds, entry + 28(%rip)
        mov %es, entry + 32(%rip)
        mov %ss, entry + 36(%rip)
        mov %cr0, %rax
        mov %eax, entry + 40(%rip)
        mov %cr4, %rax
        mov %eax, entry + 44(%rip)
        shr $32, %rsi
        mov %esi, entry + 52(%rip) /* the high half of RSI */
        mov $0xc0000080, %ecx   /* EFER */
        rdmsr
        mov %eax, entry + 48(%rip)
        movl $1, entry(%rip)    /* entered through the 64-bit protocol */
        mov $stack_top, %esp
        pushf
        pop %rax
        mov %eax, entry + 20(%rip)
        /* leave long mode: our own GDT, a 32-bit code segment, paging and EFER.LME off */
        lgdt gdt64_ptr(%rip)
        pushq $0x08
        lea compat32(%rip), %rax
        push %rax
        lretq
        .code32
compat32:
        mov $0x18, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov %cr0, %eax
        and $0x7fffffff, %eax
        mov %eax, %cr0
        mov $0xc0000080, %ecx
        rdmsr
        and $~0x100, %eax
        wrmsr
        mov entry + 4, %esi

common:
        mov $__bss_start, %edi
        mov $_end, %ecx
        sub %edi, %ecx
        xor %eax, %eax
        cld
        rep stosb
        mov $stack_top, %esp
        push $entry
        push %esi
        call lmain
1:      cli
        hlt
        jmp 1b

        .section .data
        .balign 8
        .globl entry
entry:  .fill 16, 4, 0          /* struct entry in linuxtest.c */
gdt64:  .quad 0
        .quad 0x00cf9b000000ffff /* 0x08: flat 32-bit code */
        .quad 0x00af9b000000ffff /* 0x10: 64-bit code */
        .quad 0x00cf93000000ffff /* 0x18: flat data */
gdt64_ptr:
        .word 31
        .long gdt64, 0

        .section .bss
        .balign 16
stack:  .skip 16384
stack_top:
        .section .note.GNU-stack, "", @progbits
