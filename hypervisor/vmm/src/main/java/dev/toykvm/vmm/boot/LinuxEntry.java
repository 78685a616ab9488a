package dev.toykvm.vmm.boot;

import static dev.toykvm.kvm.KvmConstants.EFER_LMA;
import static dev.toykvm.kvm.KvmConstants.EFER_LME;
import static dev.toykvm.kvm.KvmConstants.X86_CR0_PG;
import static dev.toykvm.kvm.KvmConstants.X86_CR4_PAE;

import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.KvmSregs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The CPU state in which Linux's 32-bit and 64-bit boot protocols enter the kernel (boot.rst,
 * "32-bit boot protocol" and "64-bit boot protocol"): a GDT with flat 4 GiB segments at the
 * selectors the document names, {@code __BOOT_CS} 0x10 (execute/read) and {@code __BOOT_DS} 0x18
 * (read/write), CS = __BOOT_CS, DS/ES/SS (and FS/GS) = __BOOT_DS, interrupts off, ESI/RSI = {@code
 * boot_params}, EBP, EDI and EBX zero. 32-bit: protected mode, paging off. 64-bit: long mode with
 * the first 4 GiB identity-mapped (2 MiB pages), which covers the kernel's {@code init_size},
 * {@code boot_params} and the command line.
 */
public final class LinuxEntry {
  private LinuxEntry() {}

  /** {@code __BOOT_CS}. */
  public static final int BOOT_CS = 0x10;

  /** {@code __BOOT_DS}. */
  public static final int BOOT_DS = 0x18;

  /** The page tables of the 64-bit entry: PML4, PDPT, then four page directories. */
  static final int PAGE_TABLE_BYTES = 6 * 4096;

  /** The GDT: two null entries, the code segment at 0x10 and the data segment at 0x18. */
  public static byte[] gdt(boolean longMode) {
    ByteBuffer b = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
    // base 0, limit 0xfffff pages, code XR accessed, G; D (32-bit) or L (64-bit)
    b.putLong(BOOT_CS, longMode ? 0x00af_9b00_0000_ffffL : 0x00cf_9b00_0000_ffffL);
    b.putLong(BOOT_DS, 0x00cf_9300_0000_ffffL); // base 0, limit 0xfffff pages, data RW, B, G
    return b.array();
  }

  /**
   * Page tables identity-mapping [0, 4 GiB) with 2 MiB pages, to be placed at {@code base}: PML4 at
   * base, PDPT at base + 4 KiB, the page directories after it.
   */
  public static byte[] pageTables(long base) {
    ByteBuffer b = ByteBuffer.allocate(PAGE_TABLE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    long present = 0x3; // present, writable
    b.putLong(0, (base + 0x1000) | present);
    for (int i = 0; i < 4; i++) {
      long pd = base + 0x2000 + 0x1000L * i;
      b.putLong(0x1000 + 8 * i, pd | present);
      for (int j = 0; j < 512; j++) {
        long address = (1L << 30) * i + (2L << 20) * j;
        b.putLong(0x2000 + 0x1000 * i + 8 * j, address | present | 0x80); // PS: a 2 MiB page
      }
    }
    return b.array();
  }

  /** The special registers at entry, from the vCPU's current ones (APIC base etc. kept). */
  public static KvmSregs sregs(KvmSregs current, BootPlan plan) {
    boolean longMode = plan.protocol() == BootPlan.Protocol.LINUX_64;
    KvmSregs s =
        current.withTables(
            new KvmDtable(plan.gdtAddress(), gdt(longMode).length - 1), new KvmDtable(0, 0));
    if (!longMode) {
      return s.withCs(KvmSegment.flat32(BOOT_CS, true))
          .withDataSegments(KvmSegment.flat32(BOOT_DS, false))
          .withControl(EntryState.CR0_PE | EntryState.CR0_ET, 0, 0, 0);
    }
    return s.withCs(KvmSegment.long64(BOOT_CS, true))
        .withDataSegments(KvmSegment.long64(BOOT_DS, false))
        .withControl(
            EntryState.CR0_PE | EntryState.CR0_ET | X86_CR0_PG,
            plan.pageTables(),
            X86_CR4_PAE,
            EFER_LME | EFER_LMA);
  }

  /** The general registers at entry: ESI/RSI = boot_params, RIP = the entry, the rest 0, IF 0. */
  public static KvmRegs regs(BootPlan plan) {
    return KvmRegs.reset().withRsi(plan.infoAddress()).withRip(plan.entry());
  }
}
