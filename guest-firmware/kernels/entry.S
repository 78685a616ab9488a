/* mbtest's entry: the multiboot header, a stack, then main(magic, info). Nothing else here. */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* page-aligned modules, memory information */

        .section .multiboot, "a"
        .balign 4
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)

        .section .bss
        .balign 16
stack:  .skip 16384
stack_top:

        .text
        .globl _start
_start:
        mov $stack_top, %esp
        push %ebx               /* the multiboot information */
        push %eax               /* the boot loader's magic */
        call kmain
1:      cli
        hlt
        jmp 1b
        .section .note.GNU-stack, "", @progbits
