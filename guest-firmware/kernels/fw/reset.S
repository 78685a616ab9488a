/*
 * fwtest's reset entry: the only assembly of the firmware test. The CPU starts at 0xfffffff0 in
 * real mode (CS base 0xffff0000); this code, in the image's last 64 KiB, loads a flat GDT kept in
 * ROM, enters 32-bit protected mode, copies .data to RAM, zeroes .bss, sets a stack in RAM and
 * calls fwmain(). C runs from the top copy of the image (linked there, see fw.ld).
 */
        .section .entry16, "ax"
        .code16
        .globl reset16
reset16:
        cli
        cld
        lgdtl %cs:(0xf000 + gdt_desc - reset16)  /* .entry16 is at 0xfffff000 */
        movl %cr0, %eax
        orl $1, %eax
        movl %eax, %cr0
        ljmpl $0x08, $pm32

        .balign 8
        /* Accessed bits preset (0x9b, 0x93): loading a segment never writes the ROM. */
gdt:    .quad 0
        .quad 0x00cf9b000000ffff        /* 0x08: 32-bit code, base 0, 4 GiB */
        .quad 0x00cf93000000ffff        /* 0x10: data, base 0, 4 GiB */
gdt_desc:
        .word gdt_desc - gdt - 1
        .long gdt

        .text
        .code32
pm32:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movw %ax, %fs
        movw %ax, %gs
        movl $__stack_top, %esp
        movl $__data_load, %esi         /* .data: from ROM to RAM */
        movl $__data_start, %edi
        movl $__data_end, %ecx
        subl %edi, %ecx
        rep movsb
        movl $__bss_start, %edi         /* .bss: zeroed */
        movl $__bss_end, %ecx
        subl %edi, %ecx
        xorl %eax, %eax
        rep stosb
        call fwmain
1:      cli
        hlt
        jmp 1b

        .section .resetvec, "ax"
        .code16
        jmp reset16                     /* at 0xfffffff0: CS base 0xffff0000, IP 0xfff0 */
        .balign 16, 0xf4
        .section .note.GNU-stack, "", @progbits
