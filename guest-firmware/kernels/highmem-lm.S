/*
 * highmem's trip to 64-bit mode: lm_run(pml4, jobs, n) loads a GDT with a 64-bit code segment,
 * turns on long mode with the given 4-level page tables, runs the memory jobs (see highmem.c),
 * and comes back to 32-bit protected mode without paging. cdecl; keeps ebx, esi, edi, ebp.
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
        lgdt lm_gdtr
        ljmp $0x08, $1f
1:      mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov %ax, %fs
        mov %ax, %gs
        mov 8(%ebp), %eax
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
        /* a job: u64 address, u64 value, u32 op (0 write32, 1 read32, 2 write8, 3 read8), u32 0 */
3:      mov (%rsi), %rbx
        mov 16(%rsi), %eax
        cmp $1, %eax
        je 11f
        cmp $2, %eax
        je 12f
        cmp $3, %eax
        je 13f
        mov 8(%rsi), %eax
        movl %eax, (%rbx)
        jmp 19f
11:     movl (%rbx), %eax
        mov %rax, 8(%rsi)
        jmp 19f
12:     movb 8(%rsi), %al
        movb %al, (%rbx)
        jmp 19f
13:     movzbl (%rbx), %eax
        mov %rax, 8(%rsi)
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
        pop %edi
        pop %esi
        pop %ebx
        pop %ebp
        ret
        .section .note.GNU-stack, "", @progbits
