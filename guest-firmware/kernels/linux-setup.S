/*
 * linuxtest's setup: the boot sector, the setup header (boot.rst, protocol 2.15) and a small
 * real-mode setup for loaders that enter at the real-mode entry (QEMU's -kernel, through its
 * linuxboot option ROM): it builds boot_params as Linux's setup does (the header copied, the BIOS's
 * e820 map and memory sizes), switches to protected mode and jumps to code32_start with the state
 * of the 32-bit boot protocol. A loader that uses the 32-bit or 64-bit protocol (toykvm) skips all
 * of this and builds boot_params itself.
 */
#define BP 0x8000               /* boot_params, at setup segment:0x8000 (inside the setup heap) */
#define XLF_KERNEL_64 1

        .section .setup, "ax"
        .code16
        .globl _setup
_setup:
        cli                     /* booted from a disk: nothing to do */
1:      hlt
        jmp 1b

        .org 0x1f1
        .byte setup_sects       /* setup_sects */
        .word 0                 /* root_flags */
        .long syssize           /* syssize, in 16-byte units */
        .word 0                 /* ram_size */
        .word 0xffff            /* vid_mode: normal */
        .word 0                 /* root_dev */
        .word 0xaa55            /* boot_flag */
        .byte 0xeb, hdr_end - 0x202 /* jump over the header; its offset says where the header ends */
        .ascii "HdrS"           /* header */
        .word 0x020f            /* version 2.15 */
        .long 0                 /* realmode_swtch */
        .word 0x1000            /* start_sys_seg */
        .word 0                 /* kernel_version */
        .byte 0                 /* type_of_loader: the loader's */
        .byte 0x01              /* loadflags: LOADED_HIGH */
        .word 0x8000            /* setup_move_size */
        .long 0x100000          /* code32_start */
        .long 0                 /* ramdisk_image */
        .long 0                 /* ramdisk_size */
        .long 0                 /* bootsect_kludge */
        .word 0                 /* heap_end_ptr */
        .byte 0, 0              /* ext_loader_ver, ext_loader_type */
        .long 0                 /* cmd_line_ptr */
        .long 0x7fffffff        /* initrd_addr_max */
        .long 0x100000          /* kernel_alignment */
        .byte 0                 /* relocatable_kernel: no, load at code32_start */
        .byte 0                 /* min_alignment */
        .word XLF_KERNEL_64     /* xloadflags: the 64-bit entry at +0x200 */
        .long 2047              /* cmdline_size */
        .long 0                 /* hardware_subarch: PC */
        .quad 0                 /* hardware_subarch_data */
        .long 0, 0              /* payload_offset, payload_length */
        .quad 0                 /* setup_data */
        .quad 0x100000          /* pref_address */
        .long init_size         /* init_size */
        .long 0                 /* handover_offset */
        .long 0                 /* kernel_info_offset */
hdr_end:
        /* The real-mode entry: CS = setup segment + 0x20, IP = 0 (here). */
        cli
        cld
        mov %cs, %ax
        sub $0x20, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov $0xfe00, %esp
        /* boot_params: zeroed, then the header as the loader left it */
        mov $BP, %di
        xor %ax, %ax
        mov $2048, %cx
        rep stosw
        mov $0x1f1, %si
        mov $BP + 0x1f1, %di
        mov $hdr_end - 0x1f1, %cx
        rep movsb
        /* INT 15h, AX=E820h: the memory map into e820_table (0x2d0), its length in e820_entries */
        xor %ebx, %ebx
        mov $BP + 0x2d0, %di
2:      mov $0xe820, %eax
        mov $20, %ecx
        mov $0x534d4150, %edx   /* "SMAP" */
        int $0x15
        jc 3f
        cmp $0x534d4150, %eax
        jne 3f
        incb BP + 0x1e8
        add $20, %di
        cmpb $128, BP + 0x1e8
        jae 3f
        test %ebx, %ebx
        jnz 2b
3:      /* INT 15h, AX=E801h: alt_mem_k = KiB from 1 MiB (CX below 16 MiB, DX 64 KiB blocks above) */
        mov $0xe801, %ax
        xor %cx, %cx
        xor %dx, %dx
        int $0x15
        jc 4f
        test %cx, %cx
        jnz 5f
        mov %ax, %cx
        mov %bx, %dx
5:      movzwl %dx, %edx
        shl $6, %edx
        movzwl %cx, %ecx
        add %ecx, %edx
        mov %edx, BP + 0x1e0
4:      /* INT 15h, AH=88h: ext_mem_k */
        mov $0x88, %ah
        int $0x15
        jc 6f
        mov %ax, BP + 0x002
6:      /* protected mode: the GDT's base and ESI are linear addresses */
        mov %ds, %ax
        movzwl %ax, %eax
        shl $4, %eax
        lea gdt(%eax), %edx
        mov %edx, gdt_ptr + 2
        lea BP(%eax), %esi
        lgdtl gdt_ptr
        mov %cr0, %eax
        or $1, %eax
        mov %eax, %cr0
        mov BP + 0x214, %ecx    /* code32_start, before DS changes */
        mov $0x18, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov %ax, %fs
        mov %ax, %gs
        xor %ebx, %ebx
        xor %ebp, %ebp
        xor %edi, %edi
        pushl $0x10
        pushl %ecx
        lretl

        .balign 8
gdt:    .quad 0, 0
        .quad 0x00cf9b000000ffff /* 0x10: __BOOT_CS, flat 32-bit code */
        .quad 0x00cf93000000ffff /* 0x18: __BOOT_DS, flat data */
gdt_ptr:
        .word 31
        .long 0
        .section .note.GNU-stack, "", @progbits
