# pio-testdev: the kvm-unit-tests case of the ioregionfd RFC ("x86: add ioregionfd fast PIO
# test"), against the test device's 8-byte PIO region at port 0x1234 (testdev.inc). In
# 32-bit protected mode: writes 0x11223344 with outb, outw and outl to the data port and
# reads it back with the same width from the alias (0x1238, as in the RFC) and from the data
# port itself, checking the truncation to each width; then checks that a 1-byte write
# zero-extends. One PASS/FAIL line per check, a summary, status 0 only if all passed.

        .include "machine.inc"
        .include "uart.inc"
        .include "modes.inc"
        .include "check.inc"
        .include "testdev.inc"

        .set    CHECK_BITS, 32
        .set    PIO_DATA,  TESTDEV_PIO_PORT + TESTDEV_DATA
        .set    PIO_ALIAS, TESTDEV_PIO_PORT + TESTDEV_ALIAS
        .set    PATTERN,   0x11223344      # the RFC's value

        .text
start16:
        real_mode_init
        enter_protected_mode start32

        .code32
start32:
        flat_segments32
        begin_checks

        # out<w> PATTERN to data, then in<w> from the alias and from data. EBX gets the
        # value read, zero-extended; EAX holds garbage above the width read, so a port
        # access that did not happen shows as a FAIL rather than a stale match.
        mov     $PATTERN, %eax
        mov     $PIO_DATA, %dx
        outb    %al, %dx
        mov     $0xDEADBEEF, %eax
        mov     $PIO_ALIAS, %dx
        inb     %dx, %al
        movzbl  %al, %ebx
        check   "outb to data, inb from alias", PATTERN & 0xFF, 2
        mov     $0xDEADBEEF, %eax
        mov     $PIO_DATA, %dx
        inb     %dx, %al
        movzbl  %al, %ebx
        check   "outb to data, inb from data", PATTERN & 0xFF, 2

        mov     $PATTERN, %eax
        mov     $PIO_DATA, %dx
        outw    %ax, %dx
        mov     $0xDEADBEEF, %eax
        mov     $PIO_ALIAS, %dx
        inw     %dx, %ax
        movzwl  %ax, %ebx
        check   "outw to data, inw from alias", PATTERN & 0xFFFF, 4
        mov     $0xDEADBEEF, %eax
        mov     $PIO_DATA, %dx
        inw     %dx, %ax
        movzwl  %ax, %ebx
        check   "outw to data, inw from data", PATTERN & 0xFFFF, 4

        mov     $PATTERN, %eax
        mov     $PIO_DATA, %dx
        outl    %eax, %dx
        mov     $0xDEADBEEF, %eax
        mov     $PIO_ALIAS, %dx
        inl     %dx, %eax
        mov     %eax, %ebx
        check   "outl to data, inl from alias", PATTERN, 8
        mov     $0xDEADBEEF, %eax
        mov     $PIO_DATA, %dx
        inl     %dx, %eax
        mov     %eax, %ebx
        check   "outl to data, inl from data", PATTERN, 8

        # The device holds PATTERN now; a 1-byte write replaces all of it (zero-extended).
        mov     $PATTERN, %eax
        mov     $PIO_DATA, %dx
        outb    %al, %dx
        inl     %dx, %eax
        mov     %eax, %ebx
        check   "outb after outl zero-extends, inl from data", PATTERN & 0xFF, 8

        finish_checks

        define_checks
        define_gdt
        reset_vector start16
