# hello: reset -> real mode -> 32-bit protected mode -> long mode, then prints
# "Hello from long mode\n" on COM1 from 64-bit code and exits with status 0.

        .include "machine.inc"
        .include "uart.inc"
        .include "modes.inc"

        .text
start16:
        real_mode_init
        enter_protected_mode start32

        .code32
start32:
        flat_segments32
        enter_long_mode start64

        .code64
start64:
        mov     $STACK_TOP, %rsp
        mov     $message, %esi         # the image lies below 4 GiB: zero-extends
        call    uart_puts64
        debug_exit 0

        define_uart_puts uart_puts64

message:
        .asciz  "Hello from long mode\n"

        define_gdt
        reset_vector start16
