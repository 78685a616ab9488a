# pit-tick: the 8254 PIT and the 8259 PIC in real mode, as a BIOS-era program uses them.
# Remaps the master PIC to vectors 0x20-0x27 (the slave to 0x28-0x2F), unmasks only IRQ 0,
# points IVT[0x20] at a handler that counts and sends a non-specific EOI, programs PIT
# counter 0 at 100 Hz (mode 2), then sleeps in hlt with interrupts enabled until 10 ticks
# have been counted. Prints "pit-tick: 10 ticks\n" and exits with status 0.
# The 8259 reaches the CPU through the local APIC's LINT0 (the "virtual wire"), which a PC's
# firmware sets to ExtINT; this image is the firmware, so it does that itself: the local APIC's
# page at 0xFEE00000 is above 1 MiB, reached through FS loaded with a flat 4 GiB segment in
# protected mode and kept after returning to real mode ("unreal mode").
# Unlike the other images, this one enables interrupts (it needs the in-kernel irqchip and
# PIT of the default machine: with --no-irqchip the first hlt ends the VM with 67).

        .include "machine.inc"
        .include "uart.inc"
        .include "modes.inc"

        .set TICKS,         0x500      # word in low RAM (segment 0): ticks counted so far
        .set WANTED,        10
        .set IRQ0_VECTOR,   0x20
        .set PIC1_CMD,      0x20
        .set PIC1_DATA,     0x21
        .set PIC2_CMD,      0xA0
        .set PIC2_DATA,     0xA1
        .set PIT_COUNTER0,  0x40
        .set PIT_MODE,      0x43
        .set PIT_100HZ,     11932      # 1193182 Hz / 100
        .set LAPIC_SPIV,    0xFEE000F0
        .set LAPIC_LVT0,    0xFEE00350

        .text
        define_gdt

start16:
        real_mode_init                 # IF=0, DS = 0xF000, SS:SP = 0:STACK_TOP
        lgdtl   (gdt_ptr - ROM_ALIAS_BASE)
        mov     %cr0, %eax
        or      $1, %al                # PE: just long enough to load FS
        mov     %eax, %cr0
        mov     $0x10, %bx             # flat data, base 0, limit 4 GiB
        mov     %bx, %fs
        and     $0xFE, %al
        mov     %eax, %cr0             # real mode again; FS keeps its 4 GiB limit
        mov     $LAPIC_SPIV, %ebx
        addr32 movl $0x1FF, %fs:(%ebx) # APIC software-enabled, spurious vector 0xFF
        mov     $LAPIC_LVT0, %ebx
        addr32 movl $0x700, %fs:(%ebx) # LINT0: ExtINT, unmasked: the 8259's virtual wire
        xor     %ax, %ax
        mov     %ax, %es               # ES = 0: the IVT and the tick counter
        movw    $0, %es:TICKS
        movw    $(irq0 - ROM_ALIAS_BASE), %es:(IRQ0_VECTOR * 4)
        movw    $REAL_MODE_CS, %es:(IRQ0_VECTOR * 4 + 2)

        mov     $0x11, %al             # ICW1: edge-triggered, cascade, ICW4 follows
        out     %al, $PIC1_CMD
        out     %al, $PIC2_CMD
        mov     $IRQ0_VECTOR, %al      # ICW2: vector bases
        out     %al, $PIC1_DATA
        mov     $(IRQ0_VECTOR + 8), %al
        out     %al, $PIC2_DATA
        mov     $0x04, %al             # ICW3: the slave on IR2
        out     %al, $PIC1_DATA
        mov     $0x02, %al             #       the slave's cascade identity
        out     %al, $PIC2_DATA
        mov     $0x01, %al             # ICW4: 8086 mode
        out     %al, $PIC1_DATA
        out     %al, $PIC2_DATA
        mov     $0xFE, %al             # OCW1: only IRQ 0
        out     %al, $PIC1_DATA
        mov     $0xFF, %al
        out     %al, $PIC2_DATA

        mov     $0x34, %al             # counter 0, LSB then MSB, mode 2 (rate generator)
        out     %al, $PIT_MODE
        mov     $(PIT_100HZ & 0xFF), %al
        out     %al, $PIT_COUNTER0
        mov     $(PIT_100HZ >> 8), %al
        out     %al, $PIT_COUNTER0

wait:   sti
        hlt                            # sleeps until the next tick (STI's shadow covers it)
        cli                            # no tick between the compare and the print
        cmpw    $WANTED, %es:TICKS
        jb      wait

        mov     $(message - ROM_ALIAS_BASE), %si
        call    uart_puts16
        debug_exit 0

# IRQ 0: count, EOI, return. Any segment state: only ES:TICKS through a saved ES.
irq0:
        push    %ax
        push    %es
        xor     %ax, %ax
        mov     %ax, %es
        incw    %es:TICKS
        mov     $0x20, %al             # OCW2: non-specific EOI
        out     %al, $PIC1_CMD
        pop     %es
        pop     %ax
        iret

        define_uart_puts uart_puts16

message:
        .asciz  "pit-tick: 10 ticks\n"

        reset_vector start16
