# real-mode-hello: never leaves real mode. Prints "Hello from real mode\n" on COM1 and
# exits with status 0: the smallest test of the reset path, the UART and the debug exit.

        .include "machine.inc"
        .include "uart.inc"
        .include "modes.inc"

        .text
start16:
        real_mode_init                 # DS = 0xF000: offsets into the alias
        mov     $(message - ROM_ALIAS_BASE), %si
        call    uart_puts16
        debug_exit 0

        define_uart_puts uart_puts16

message:
        .asciz  "Hello from real mode\n"

        reset_vector start16
