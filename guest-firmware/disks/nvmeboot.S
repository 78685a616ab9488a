/*
 * nvmeboot: a raw disk image of 1024 sectors (512 KiB) that a PC BIOS boots. LBA 0 is the boot
 * sector, which the BIOS loads at 0x7c00 and enters in real mode with the boot drive in DL; LBAs
 * 1-127 hold a pattern the assembler computes below (dword w of sector s is
 * s * 0x9e3779b1 ^ w * 0x85ebca6b ^ 0x544f4f42, so a sector read from the wrong place is caught).
 *
 * The boot sector sets up COM1 (115200 8N1, polled), prints "nvmeboot: loaded by the BIOS", checks
 * the BIOS's INT 13h extensions (AH=41h), reads LBAs 1-64 (32 KiB, eight pages) into 0x10000 and
 * LBAs 65-127 into 0x20100 (not page-aligned: a BIOS whose disk driver needs aligned buffers must
 * bounce it) with INT 13h AH=42h, verifies every dword, prints "nvmeboot: PASS" and writes 0 to
 * the debug-exit port 0xf4 (QEMU's isa-debug-exit: status 1). A failure prints
 * "nvmeboot: FAIL: <what>" and writes 1 (QEMU: status 3). Lines end in "\r\n".
 */
#define COM1 0x3f8
#define DEBUG_EXIT 0xf4
#define SECTORS 128      /* the boot sector and the pattern */
#define DISK_SECTORS 1024 /* the image, zero after the pattern */
#define READ1_LBA 1
#define READ1_COUNT 64
#define READ1_SEGMENT 0x1000 /* 0x10000 */
#define READ2_LBA 65
#define READ2_COUNT 63
#define READ2_SEGMENT 0x2010 /* 0x20100 */
#define SEED_S 0x9e3779b1
#define SEED_W 0x85ebca6b
#define TAG 0x544f4f42 /* "BOOT" */

        .code16
        .text
        .globl _start
_start:
        cli
        ljmp $0, $start                 /* CS:IP = 0:0x7c00, whichever form the BIOS used */
start:
        xor %ax, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov $0x7c00, %sp
        cld
        sti
        mov %dl, boot_drive

        /* COM1: divisor 1 (115200), 8N1, FIFOs on, DTR and RTS, no interrupts (uart_setup). */
        mov $uart_setup, %si
        mov $UART_SETUP_PAIRS, %cx
0:      lodsw                           /* AL = the register, AH = its value */
        mov $COM1, %dx
        add %al, %dl
        mov %ah, %al
        out %al, %dx
        loop 0b

        mov $msg_loaded, %si
        call say

        /* INT 13h AH=41h: the extensions, with the fixed disk access subset (AH=42h). */
        mov $0x41, %ah
        mov $0x55aa, %bx
        mov boot_drive, %dl
        int $0x13
        mov $msg_no_ext, %si
        jc fail
        cmp $0xaa55, %bx
        jne fail
        test $1, %cl
        jz fail

        mov $dap1, %si
        call read
        mov $dap2, %si
        call read
        mov $msg_read, %si
        call say

        /* Verify: EBP = the sector number, ECX = the dword index, ES:DI = the dword. */
        mov $READ1_SEGMENT, %ax
        mov $READ1_LBA, %ebp
        mov $READ1_COUNT, %bx
        call verify
        mov $READ2_SEGMENT, %ax
        mov $READ2_LBA, %ebp
        mov $READ2_COUNT, %bx
        call verify

        mov $msg_pass, %si
        call say
        xor %al, %al
        jmp exit

/* INT 13h AH=42h with the packet at SI; fails unless every sector was read. */
read:
        mov 2(%si), %cx                 /* the count asked for (the BIOS writes back the count read) */
        push %si
        mov $0x42, %ah
        mov boot_drive, %dl
        int $0x13
        pop %bx
        mov $msg_read_failed, %si
        jc fail
        cmp 2(%bx), %cx
        jne fail
        ret

/* BX sectors at AX:0, the first being sector EBP: every dword as the build wrote it. */
verify:
        mov %ax, %es
        xor %di, %di
1:      xor %ecx, %ecx
2:      mov %ebp, %eax
        imul $SEED_S, %eax, %eax
        mov %ecx, %edx
        imul $SEED_W, %edx, %edx
        xor %edx, %eax
        xor $TAG, %eax
        cmp %es:(%di), %eax
        jne mismatch
        add $4, %di
        inc %ecx
        cmp $128, %ecx
        jb 2b
        inc %ebp
        dec %bx
        jnz 1b
        xor %ax, %ax
        mov %ax, %es
        ret
mismatch:
        mov $msg_mismatch, %si
        /* fall through */

/* Prints "nvmeboot: FAIL: " and the message at SI, then exits with 1. */
fail:
        push %si
        mov $msg_fail, %si
        call say
        pop %si
        call print
        mov $1, %al
exit:
        mov $DEBUG_EXIT, %dx
        out %al, %dx
3:      cli
        hlt
        jmp 3b

/* Prints "nvmeboot: ", then the string at SI. */
say:
        push %si
        mov $msg_prefix, %si
        call print
        pop %si
        /* fall through */

/* Prints the NUL-terminated string at SI on COM1, waiting (boundedly) for THRE before each byte. */
print:
        push %ax
        push %cx
        push %dx
4:      lodsb
        test %al, %al
        jz 6f
        mov %al, %ah
        mov $COM1 + 5, %dx
        mov $0xffff, %cx
5:      in %dx, %al
        test $0x20, %al
        loopz 5b
        mov $COM1, %dx
        mov %ah, %al
        out %al, %dx
        jmp 4b
6:      pop %dx
        pop %cx
        pop %ax
        ret

boot_drive:     .byte 0x80
        .balign 4
dap1:   .byte 16, 0
        .word READ1_COUNT, 0, READ1_SEGMENT
        .quad READ1_LBA
dap2:   .byte 16, 0
        .word READ2_COUNT, 0, READ2_SEGMENT
        .quad READ2_LBA

/* COM1's registers as (offset, value): LCR DLAB, divisor 1, LCR 8N1, IER off, FCR, MCR. */
uart_setup:     .byte 3, 0x80, 0, 1, 1, 0, 3, 0x03, 1, 0, 2, 0x07, 4, 0x03
        .equ UART_SETUP_PAIRS, (. - uart_setup) / 2

msg_prefix:     .asciz "nvmeboot: "
msg_loaded:     .asciz "loaded by the BIOS\r\n"
msg_read:       .asciz "read 64+63 sectors with INT 13h AH=42h\r\n"
msg_pass:       .asciz "PASS\r\n"
msg_fail:       .asciz "FAIL: "
msg_no_ext:     .asciz "no INT 13h extensions\r\n"
msg_read_failed: .asciz "INT 13h AH=42h failed\r\n"
msg_mismatch:   .asciz "data differs from the pattern\r\n"

boot_code_end:
        .org 510
        .byte 0x55, 0xaa

/* LBAs 1-127: the pattern. */
        .set s, 1
        .rept SECTORS - 1
        .set w, 0
        .rept 128
        .long ((s * SEED_S) ^ (w * SEED_W) ^ TAG) & 0xffffffff
        .set w, w + 1
        .endr
        .set s, s + 1
        .endr

/* Zeros up to 512 KiB: SeaBIOS gives a disk of fewer than 16 * 63 sectors 0 cylinders in its
 * logical geometry, and its CHS read of the boot sector then fails ("could not read the boot
 * disk"); 1024 sectors make one cylinder. */
        .org DISK_SECTORS * 512

        .section .note.GNU-stack, "", @progbits
