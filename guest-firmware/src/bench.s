# bench: a benchmark guest for 'toykvm bench'. It performs N device accesses of one kind and
# size in a tight loop and records the latency of each in TSC ticks. What to do comes from a
# parameter block the harness writes into RAM at 0x9000 before the vCPU starts (the contract
# is in ../README.md, "The bench image"); without a valid block (RAM zero: magic 0) it prints
# "bench: bad parameter block (<field> 0x<hex>)" and exits with status 2.
#
# Long mode: the first 1 GiB identity-mapped (2 MiB pages), plus the 1 MiB MMIO window
# 0xFEB00000-0xFEBFFFFF identity-mapped uncached (PCD|PWT, 4 KiB pages) as in mmio-testdev.
#
# One routine per (kind, size, recording or not): 28 of them, made by one macro, so that
# every loop has the same shape and only the access differs; a jump table picks one. Each
# routine: the warmup loop, tsc_start, "out 1 to 0xF0", the measured loop, tsc_end,
# "out 2 to 0xF0". The measured loop, recording (flags bit 0 clear):
#
#       lfence; rdtsc; mov %eax, %r9d       t0 (only its low 32 bits are needed)
#       <the access>
#       lfence; rdtsc; sub %r9d, %eax       (u32)(t1 - t0)
#       mov %eax, (%rdi); add $4, %rdi      results[i]
#       dec %rsi; jnz                       count down
#
# and for throughput runs (flags bit 0 set), and in the warmup loop, just the access and the
# count down. Registers in the loops: R8 target, R10 value, R11 the xor of every value read
# (so that no read is dead), RDI the next result, RSI the accesses left, R9 t0; RAX, RCX,
# RDX scratch.
#
# The loops are deliberately not aligned with .p2align: gas pads code with multi-byte nops of
# the mode in force at the end of the file (.code16, after reset_vector), and in 64-bit code
# those bytes decode as something else entirely.

        .include "machine.inc"
        .include "uart.inc"
        .include "modes.inc"

# The parameter block (all little-endian), written by the harness.
        .set    PB,                 0x9000
        .set    PB_MAGIC,           PB + 0      # u32 BENCH_MAGIC
        .set    PB_KIND,            PB + 4      # u32 KIND_*
        .set    PB_SIZE,            PB + 8      # u32 1, 2, 4 or 8 (PIO: at most 4)
        .set    PB_FLAGS,           PB + 12     # u32 FLAG_*
        .set    PB_COUNT,           PB + 16     # u64 measured accesses
        .set    PB_WARMUP,          PB + 24     # u64 accesses before, not measured
        .set    PB_TARGET,          PB + 32     # u64 MMIO address or port
        .set    PB_RESULTS,         PB + 40     # u64 address of u32 results[count]
        .set    PB_TSC_START,       PB + 48     # u64 written by the guest
        .set    PB_TSC_END,         PB + 56     # u64 written by the guest
        .set    PB_VALUE,           PB + 64     # u64 the value written by write kinds

        .set    BENCH_MAGIC,        0x4e424b54  # 'TKBN' in memory order
        .set    KIND_MMIO_READ,     0
        .set    KIND_MMIO_WRITE,    1
        .set    KIND_PIO_IN,        2
        .set    KIND_PIO_OUT,       3
        .set    FLAG_NO_RECORD,     1 << 0      # time the whole loop only
        .set    FLAGS_KNOWN,        FLAG_NO_RECORD

        .set    MARKER_PORT,        0xF0        # 1-byte out: the VMM notes its clock
        .set    MARK_START,         1
        .set    MARK_END,           2
        .set    STATUS_BAD_BLOCK,   2

        .set    BENCH_MMIO_BASE,    0xFEB00000  # MMIO targets must lie in this window
        .set    BENCH_MMIO_SIZE,    0x100000
        .set    RESULTS_MIN,        0x100000    # the results array: RAM from 1 MiB ...
        .set    RESULTS_LIMIT,      0x40000000  # ... up to the end of the identity map


# reject_if CC, NAME, DIGITS: if condition CC holds, the field NAME (a quoted string), whose
# value is in RBX, is bad: print it with DIGITS hex digits and exit 2.
.macro reject_if cc, name, digits
        .pushsection .rodata
.Lname\@:
        .asciz  "\name"
        .popsection
        mov     $.Lname\@, %esi
        mov     $\digits, %cl
        j\cc    bad_block
.endm

# reject_unless CC, CONST, REG, NAME, DIGITS: compares REG with the constant CONST; the field
# NAME is bad unless REG CC CONST (e.g. "be": REG <= CONST unsigned).
.macro reject_unless cc, const, reg, name, digits
        .pushsection .rodata
.Lname\@:
        .asciz  "\name"
        .popsection
        mov     $.Lname\@, %esi
        mov     $\digits, %cl
        cmp     $(\const), \reg
        jn\cc   bad_block
.endm

# bench_access KIND, SIZE: one access of the benchmark. MMIO: at R8; PIO: to port R8.
# Reads xor the value read (zero-extended) into R11; writes write the low SIZE bytes of R10.
# Clobbers RAX, RCX, RDX.
.macro bench_access kind, size
.if \kind == KIND_MMIO_READ
  .if \size == 1
        movzbl  (%r8), %ecx
  .elseif \size == 2
        movzwl  (%r8), %ecx
  .elseif \size == 4
        movl    (%r8), %ecx
  .else
        movq    (%r8), %rcx
  .endif
        xor     %rcx, %r11
.elseif \kind == KIND_MMIO_WRITE
  .if \size == 1
        movb    %r10b, (%r8)
  .elseif \size == 2
        movw    %r10w, (%r8)
  .elseif \size == 4
        movl    %r10d, (%r8)
  .else
        movq    %r10, (%r8)
  .endif
.elseif \kind == KIND_PIO_IN
        mov     %r8d, %edx
  .if \size == 1
        inb     %dx, %al
        movzbl  %al, %eax
  .elseif \size == 2
        inw     %dx, %ax
        movzwl  %ax, %eax
  .else
        inl     %dx, %eax
  .endif
        xor     %rax, %r11
.else
        mov     %r8d, %edx
        mov     %r10d, %eax
  .if \size == 1
        outb    %al, %dx
  .elseif \size == 2
        outw    %ax, %dx
  .else
        outl    %eax, %dx
  .endif
.endif
.endm

# read_tsc_to ADDR: RAX = EDX:EAX = the TSC (after earlier instructions completed), stored
# at ADDR. Clobbers RDX.
.macro read_tsc_to addr
        lfence
        rdtsc
        shl     $32, %rdx
        or      %rdx, %rax
        mov     %rax, \addr
.endm

# bench_routine_addr KIND, SIZE, RECORD: the address of that routine, as a quad.
.macro bench_routine_addr kind, size, record
        .quad   bench_\kind\()_\size\()_\record
.endm

# bench_routine KIND, SIZE, RECORD: the label bench_KIND_SIZE_RECORD and the whole run for
# that combination (RECORD 1: per-access latencies, 0: only the whole loop is timed).
# Expects R8, R10, R11 and RDI set up; ends with a jump to bench_done.
.macro bench_routine kind, size, record
bench_\kind\()_\size\()_\record:
        mov     PB_WARMUP, %rsi
        test    %rsi, %rsi
        jz      2f
1:      bench_access \kind, \size               # the warmup loop
        dec     %rsi
        jnz     1b
2:      mov     PB_COUNT, %rsi
        read_tsc_to PB_TSC_START
        mov     $MARK_START, %al
        out     %al, $MARKER_PORT
        test    %rsi, %rsi
        jz      4f
3:                                              # the measured loop
.if \record
        lfence
        rdtsc
        mov     %eax, %r9d
        bench_access \kind, \size
        lfence
        rdtsc
        sub     %r9d, %eax
        mov     %eax, (%rdi)
        add     $4, %rdi
.else
        bench_access \kind, \size
.endif
        dec     %rsi
        jnz     3b
4:      read_tsc_to PB_TSC_END
        mov     $MARK_END, %al
        out     %al, $MARKER_PORT
        jmp     bench_done
.endm

        .text
start16:
        real_mode_init
        enter_protected_mode start32

        .code32
start32:
        flat_segments32
        identity_map_first_gib
        map_uncached BENCH_MMIO_BASE, BENCH_MMIO_SIZE
        enable_long_mode start64

        .code64
start64:
        mov     $STACK_TOP, %rsp

        # Check the parameter block. A bad field: RBX = its value, ESI = its name, CL = the
        # hex digits to print, then a jump to bad_block.
        mov     PB_MAGIC, %ebx
        reject_unless e, BENCH_MAGIC, %ebx, "magic", 8

        mov     PB_KIND, %ebx
        mov     %ebx, %r12d                     # R12: kind
        reject_unless be, KIND_PIO_OUT, %ebx, "kind", 8

        mov     PB_SIZE, %ebx
        mov     %ebx, %r13d                     # R13: size
        xor     %r14d, %r14d                    # R14: log2(size)
        cmp     $1, %ebx
        je      1f
        inc     %r14d
        cmp     $2, %ebx
        je      1f
        inc     %r14d
        cmp     $4, %ebx
        je      1f
        inc     %r14d
        reject_unless e, 8, %ebx, "size", 8
        reject_unless b, KIND_PIO_IN, %r12d, "size", 8  # PIO: at most 4 bytes
1:
        mov     PB_FLAGS, %ebx
        test    $~FLAGS_KNOWN, %ebx
        reject_if nz, "flags", 8

        mov     PB_TARGET, %rbx
        cmp     $KIND_PIO_IN, %r12d
        jae     2f
        # MMIO: [target, target + size) inside the window, naturally aligned.
        mov     $BENCH_MMIO_BASE, %eax          # (an immediate would sign-extend)
        cmp     %rax, %rbx
        reject_if b, "target", 16
        mov     $(BENCH_MMIO_BASE + BENCH_MMIO_SIZE), %eax
        sub     %r13, %rax
        cmp     %rax, %rbx
        reject_if a, "target", 16
        lea     -1(%r13), %rax
        test    %rax, %rbx
        reject_if nz, "target", 16
        jmp     3f
2:      # PIO: [target, target + size) a range of ports, clear of 0xF0-0xF4 (the marker port
        # and the debug exit).
        mov     $0x10000, %eax
        sub     %r13, %rax
        cmp     %rax, %rbx
        reject_if a, "target", 16
        cmp     $DEBUG_EXIT_PORT, %rbx
        ja      3f
        lea     -1(%rbx,%r13), %rax
        cmp     $MARKER_PORT, %rax
        reject_if ae, "target", 16
3:
        testl   $FLAG_NO_RECORD, PB_FLAGS
        jnz     4f
        # Recording: results 4-byte aligned, in [RESULTS_MIN, RESULTS_LIMIT - 4 * count].
        mov     PB_RESULTS, %rbx
        cmp     $RESULTS_MIN, %rbx
        reject_if b, "results", 16
        test    $3, %bl
        reject_if nz, "results", 16
        cmp     $RESULTS_LIMIT, %rbx
        reject_if a, "results", 16
        mov     $RESULTS_LIMIT, %eax
        sub     %rbx, %rax
        shr     $2, %rax
        mov     PB_COUNT, %rbx
        cmp     %rax, %rbx
        reject_if a, "count", 16
        # Touch the results array now (zero it), so that the first write to each of its
        # pages does not fault (in the VMM or the host) inside the measured loop.
        mov     PB_RESULTS, %rdi
        mov     PB_COUNT, %rcx
        xor     %eax, %eax
        rep stosl
4:
        # The routine for (flags bit 0, kind, size).
        mov     PB_TARGET, %r8
        mov     PB_VALUE, %r10
        mov     PB_RESULTS, %rdi
        xor     %r11d, %r11d
        mov     PB_FLAGS, %eax
        and     $FLAG_NO_RECORD, %eax
        shl     $4, %eax
        lea     (%rax,%r12,4), %eax
        add     %r14d, %eax
        jmp     *bench_routines(,%rax,8)

# bad_block: prints "bench: bad parameter block (<name> 0x<value>)" and exits with status 2.
bad_block:
        push    %rsi
        mov     $msg_bad, %esi
        call    bench_puts
        pop     %rsi
        call    bench_puts
        mov     $msg_hex, %esi
        call    bench_puts
        call    bench_puthex
        mov     $msg_close, %esi
        call    bench_puts
        debug_exit STATUS_BAD_BLOCK

bench_done:
        mov     $msg_done, %esi
        call    bench_puts
        debug_exit 0

bench_unreachable:                              # PIO with size 8: rejected above
        ud2

        .irp    record, 1, 0
        .irp    kind, KIND_MMIO_READ, KIND_MMIO_WRITE, KIND_PIO_IN, KIND_PIO_OUT
        .irp    size, 1, 2, 4, 8
        .if     (\kind < KIND_PIO_IN) || (\size < 8)
        bench_routine \kind, \size, \record
        .endif
        .endr
        .endr
        .endr

        define_uart_puts bench_puts
        define_uart_puthex bench_puthex, 64

        .section .rodata
        .balign 8
# Indexed by (flags bit 0) * 16 + kind * 4 + log2(size).
bench_routines:
        .irp    record, 1, 0
        .irp    kind, KIND_MMIO_READ, KIND_MMIO_WRITE, KIND_PIO_IN, KIND_PIO_OUT
        .irp    size, 1, 2, 4, 8
        .if     (\kind < KIND_PIO_IN) || (\size < 8)
        bench_routine_addr \kind, \size, \record
        .else
        .quad   bench_unreachable
        .endif
        .endr
        .endr
        .endr

msg_bad:        .asciz  "bench: bad parameter block ("
msg_hex:        .asciz  " 0x"
msg_close:      .asciz  ")\n"
msg_done:       .asciz  "bench: done\n"

        .text
        define_gdt
        reset_vector start16
