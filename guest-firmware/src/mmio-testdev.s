# mmio-testdev: the test device's 0x1000-byte MMIO region at 0xFEB00000 (testdev.inc), from
# 64-bit long mode (so that 8-byte accesses are possible). The region is identity-mapped
# with an uncached (PCD|PWT) 4 KiB page, as a driver would map device registers.
# Checks, one PASS/FAIL line each, then a summary, status 0 only if all passed:
#  - for each access size 1, 2, 4, 8: a write to data reads back with that size from data
#    and from the alias (for size 8 an unaligned access, which KVM and ioregionfd pass on
#    as one 8-byte read at the alias), the last-size register then reports that size, and (sizes 1, 2, 4)
#    an 8-byte read of data shows the write was zero-extended;
#  - with an 8-byte value stored, 1-, 2- and 4-byte reads of data and alias truncate it;
#  - the access counter: two back-to-back reads differ by 1 (the first read itself), and
#    by ACCESSES_BETWEEN + 1 around ACCESSES_BETWEEN other accesses;
#  - posted writes: 64 back-to-back 4-byte writes of 0, 1, ..., 63 to the log all arrive,
#    in order.

        .include "machine.inc"
        .include "uart.inc"
        .include "modes.inc"
        .include "check.inc"
        .include "testdev.inc"

        .set    CHECK_BITS, 64
        .set    VALUE1, 0x5A                    # one distinctive value per access size:
        .set    VALUE2, 0x1B2C                  # each differs from the others in every byte
        .set    VALUE4, 0x3D4E6F70
        .set    VALUE8, 0x0123456789ABCDEF
        .set    LOG_WRITES, 64                  # also in the check's text
        .set    ACCESSES_BETWEEN, 6             # as counted below, and in the check's text

        .text
start16:
        real_mode_init
        enter_protected_mode start32

        .code32
start32:
        flat_segments32
        identity_map_first_gib
        map_uncached TESTDEV_MMIO_BASE, TESTDEV_MMIO_SIZE
        enable_long_mode start64

        .code64
start64:
        mov     $STACK_TOP, %rsp
        begin_checks
        mov     $TESTDEV_MMIO_BASE, %r8d        # R8: the region (zero-extended)

        # Each size: write, read data, read alias, read the last-size register. RBX gets
        # the value read, zero-extended (32-bit destinations clear the upper half).
        movb    $VALUE1, TESTDEV_DATA(%r8)
        movzbl  TESTDEV_DATA(%r8), %ebx
        check   "1-byte write to data, 1-byte read from data", VALUE1, 2
        movzbl  TESTDEV_ALIAS(%r8), %ebx
        check   "1-byte write to data, 1-byte read from alias", VALUE1, 2
        movq    TESTDEV_LAST_SIZE(%r8), %rbx
        check   "last-size register after a 1-byte read", 1, 16
        movq    TESTDEV_DATA(%r8), %rbx
        check   "1-byte write zero-extends, 8-byte read from data", VALUE1, 16

        movw    $VALUE2, TESTDEV_DATA(%r8)
        movzwl  TESTDEV_DATA(%r8), %ebx
        check   "2-byte write to data, 2-byte read from data", VALUE2, 4
        movzwl  TESTDEV_ALIAS(%r8), %ebx
        check   "2-byte write to data, 2-byte read from alias", VALUE2, 4
        movq    TESTDEV_LAST_SIZE(%r8), %rbx
        check   "last-size register after a 2-byte read", 2, 16
        movq    TESTDEV_DATA(%r8), %rbx
        check   "2-byte write zero-extends, 8-byte read from data", VALUE2, 16

        movl    $VALUE4, TESTDEV_DATA(%r8)
        movl    TESTDEV_DATA(%r8), %ebx
        check   "4-byte write to data, 4-byte read from data", VALUE4, 8
        movl    TESTDEV_ALIAS(%r8), %ebx
        check   "4-byte write to data, 4-byte read from alias", VALUE4, 8
        movq    TESTDEV_LAST_SIZE(%r8), %rbx
        check   "last-size register after a 4-byte read", 4, 16
        movq    TESTDEV_DATA(%r8), %rbx
        check   "4-byte write zero-extends, 8-byte read from data", VALUE4, 16

        mov     $VALUE8, %rax
        movq    %rax, TESTDEV_DATA(%r8)
        movq    TESTDEV_DATA(%r8), %rbx
        check   "8-byte write to data, 8-byte read from data", VALUE8, 16
        movq    TESTDEV_ALIAS(%r8), %rbx        # one 8-byte access at +4 (KVM: one exit)
        check   "8-byte write to data, unaligned 8-byte read from alias", VALUE8, 16
        movq    TESTDEV_LAST_SIZE(%r8), %rbx
        check   "last-size register after an 8-byte read", 8, 16

        # VALUE8 is stored: narrower reads return its low bytes.
        movzbl  TESTDEV_DATA(%r8), %ebx
        check   "8-byte value, 1-byte read from data truncates", VALUE8 & 0xFF, 2
        movzbl  TESTDEV_ALIAS(%r8), %ebx
        check   "8-byte value, 1-byte read from alias truncates", VALUE8 & 0xFF, 2
        movzwl  TESTDEV_DATA(%r8), %ebx
        check   "8-byte value, 2-byte read from data truncates", VALUE8 & 0xFFFF, 4
        movzwl  TESTDEV_ALIAS(%r8), %ebx
        check   "8-byte value, 2-byte read from alias truncates", VALUE8 & 0xFFFF, 4
        movl    TESTDEV_DATA(%r8), %ebx
        check   "8-byte value, 4-byte read from data truncates", VALUE8 & 0xFFFFFFFF, 8
        movl    TESTDEV_ALIAS(%r8), %ebx
        check   "8-byte value, 4-byte read from alias truncates", VALUE8 & 0xFFFFFFFF, 8

        # The access counter counts the accesses before the read of it, so a second read
        # sees the first one too.
        movq    TESTDEV_ACCESSES(%r8), %r9
        movq    TESTDEV_ACCESSES(%r8), %rbx
        sub     %r9, %rbx
        check   "access counter: back-to-back reads differ by 1", 1, 16

        mov     $VALUE8, %rax
        movq    TESTDEV_ACCESSES(%r8), %r9
        movb    $VALUE1, TESTDEV_DATA(%r8)      # the ACCESSES_BETWEEN (6) accesses
        movw    $VALUE2, TESTDEV_DATA(%r8)
        movl    $VALUE4, TESTDEV_DATA(%r8)
        movq    %rax, TESTDEV_DATA(%r8)
        movzbl  TESTDEV_ALIAS(%r8), %ecx
        movq    TESTDEV_DATA(%r8), %rcx
        movq    TESTDEV_ACCESSES(%r8), %rbx
        sub     %r9, %rbx
        check   "access counter: 6 accesses between two reads add 7", ACCESSES_BETWEEN + 1, 16

        # Posted writes: LOG_WRITES 4-byte stores back to back, then one read.
        .set    i, 0
        .rept   LOG_WRITES
        movl    $i, TESTDEV_LOG(%r8)
        .set    i, i + 1
        .endr
        movq    TESTDEV_LOG_IN_ORDER(%r8), %rbx
        check   "posted-write log: 64 back-to-back writes arrive in order", LOG_WRITES, 16

        finish_checks

        define_checks
        define_gdt
        reset_vector start16
