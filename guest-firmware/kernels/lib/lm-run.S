/*
 * A trip to 64-bit mode for 32-bit kernels (lib/longmode.h): lm_run(pml4, jobs, n) turns on long
 * mode with the given 4-level page tables, runs the memory jobs, and comes back to 32-bit
 * protected mode without paging, with the caller's GDT, code segment and EFLAGS (interrupts stay
 * off for the trip: the caller's IDT is a 32-bit one). cdecl; keeps ebx, esi, edi, ebp.
 */
        .section .rodata
        .balign 8
lm_gdt:
        .quad 0
        .quad 0x00cf9b000000ffff        /* 0x08: flat 32-bit code */
        .quad 0x00cf93000000ffff        /* 0x10: flat data */
        .quad 0x00af9b000000ffff        /* 0x18: 64-bit code */
lm_gdtr:
        .word 4 * 8 - 1
        .long lm_gdt

        .text
        .code32
        .globl lm_run
lm_run:
        push %ebp
        mov %esp, %ebp
        push %ebx
        push %esi
        push %edi
        pushf
        cli
        sub $8, %esp
        sgdt (%esp)                     /* the caller's GDT, back at the end */
        xor %eax, %eax
        mov %cs, %ax
        push %eax                       /* and its code segment */
        lgdt lm_gdtr
        ljmp $0x08, $1f
1:      mov 8(%ebp), %eax
        mov %eax, %cr3
        mov %cr4, %eax
        or $0x20, %eax                  /* CR4.PAE */
        mov %eax, %cr4
        mov $0xc0000080, %ecx           /* EFER */
        rdmsr
        or $0x100, %eax                 /* LME */
        wrmsr
        mov 12(%ebp), %esi
        mov 16(%ebp), %edi
        mov %cr0, %eax
        or $0x80000000, %eax            /* CR0.PG: long mode is active */
        mov %eax, %cr0
        ljmp $0x18, $2f

        .code64
2:      mov %esi, %esi                  /* 32-bit moves clear the upper halves */
        mov %edi, %edi
        mov %esp, %esp
        test %edi, %edi
        jz 9f
        /* a job (struct lm_job): u64 addr, u64 value, u32 op, u32 len */
3:      mov (%rsi), %rbx
        mov 16(%rsi), %eax
        cmp $1, %eax
        je 11f
        cmp $2, %eax
        je 12f
        cmp $3, %eax
        je 13f
        cmp $4, %eax
        je 14f
        cmp $5, %eax
        je 15f
        mov 8(%rsi), %eax               /* LM_WRITE32 */
        movl %eax, (%rbx)
        jmp 19f
11:     movl (%rbx), %eax               /* LM_READ32 */
        mov %rax, 8(%rsi)
        jmp 19f
12:     movb 8(%rsi), %al               /* LM_WRITE8 */
        movb %al, (%rbx)
        jmp 19f
13:     movzbl (%rbx), %eax             /* LM_READ8 */
        mov %rax, 8(%rsi)
        jmp 19f
14:     push %rsi                       /* LM_COPY_IN: len bytes from value to addr */
        push %rdi
        mov 20(%rsi), %ecx
        mov %rbx, %rdi
        mov 8(%rsi), %rsi
        cld
        rep movsb
        pop %rdi
        pop %rsi
        jmp 19f
15:     push %rsi                       /* LM_COPY_OUT: len bytes from addr to value */
        push %rdi
        mov 20(%rsi), %ecx
        mov 8(%rsi), %rdi
        mov %rbx, %rsi
        cld
        rep movsb
        pop %rdi
        pop %rsi
19:     add $24, %rsi
        dec %edi
        jnz 3b
9:      mov $4f, %eax                   /* back through compatibility mode */
        pushq $0x08
        push %rax
        lretq

        .code32
4:      mov %cr0, %eax
        and $0x7fffffff, %eax           /* paging off: long mode ends */
        mov %eax, %cr0
        mov $0xc0000080, %ecx
        rdmsr
        and $~0x100, %eax
        wrmsr
        mov %cr4, %eax
        and $~0x20, %eax
        mov %eax, %cr4
        pop %eax                        /* the caller's code segment */
        lgdt (%esp)
        add $8, %esp
        push %eax
        push $5f
        lret
5:      popf
        pop %edi
        pop %esi
        pop %ebx
        pop %ebp
        ret
        .section .note.GNU-stack, "", @progbits
