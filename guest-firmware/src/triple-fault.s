# triple-fault: enters 32-bit protected mode, prints "about to triple fault\n" on COM1,
# loads an IDT whose limit is 0 and executes ud2. #UD cannot be delivered (vector 6 lies
# beyond the limit), nor can the resulting #GP or #DF: the CPU shuts down, which a VMM
# sees as KVM_EXIT_SHUTDOWN. Exit status 1 means ud2 did not fault at all.

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
        mov     $message, %esi
        call    uart_puts32
        lidt    empty_idt_ptr
        ud2
        debug_exit 1                   # only reached if the fault was ignored

        define_uart_puts uart_puts32

empty_idt_ptr:
        .word   0                      # limit 0: not even one gate fits
        .long   0

message:
        .asciz  "about to triple fault\n"

        define_gdt
        reset_vector start16
