package dev.toykvm.kernel.x86;

import static dev.toykvm.kvm.KvmConstants.EFER_LMA;
import static dev.toykvm.kvm.KvmConstants.X86_CR0_PG;
import static dev.toykvm.kvm.KvmConstants.X86_CR4_PAE;

import dev.toykvm.kvm.KvmSregs;

/**
 * Translates linear to guest-physical addresses by walking the guest's page tables (32-bit, PAE and
 * 4-level paging), checking only the present bits: it serves the kernel side's own accesses
 * (exception delivery), which run at ring 0.
 */
final class PageWalker {
  private static final long ADDR = 0x000f_ffff_ffff_f000L;
  private static final long P = 1;
  private static final long PS = 1L << 7;
  private static final long CR4_PSE = 1L << 4;

  private PageWalker() {}

  /** The physical address of {@code linear}, or -1 if a table entry is not present. */
  static long translate(GuestCpu cpu, KvmSregs s, long linear) {
    if ((s.cr0() & X86_CR0_PG) == 0) {
      return (s.efer() & EFER_LMA) != 0 ? linear : linear & 0xffff_ffffL;
    }
    if ((s.efer() & EFER_LMA) != 0) {
      long e = entry(cpu, (s.cr3() & ADDR) + ((linear >>> 39) & 511) * 8);
      if ((e & P) == 0) {
        return -1;
      }
      e = entry(cpu, (e & ADDR) + ((linear >>> 30) & 511) * 8);
      if ((e & P) == 0) {
        return -1;
      }
      if ((e & PS) != 0) {
        return (e & ADDR & ~((1L << 30) - 1)) | (linear & ((1L << 30) - 1));
      }
      return pageDirectory(cpu, e & ADDR, linear);
    }
    if ((s.cr4() & X86_CR4_PAE) != 0) {
      long e = entry(cpu, (s.cr3() & 0xffff_ffe0L) + ((linear >>> 30) & 3) * 8);
      if ((e & P) == 0) {
        return -1;
      }
      return pageDirectory(cpu, e & ADDR, linear & 0xffff_ffffL);
    }
    long lin = linear & 0xffff_ffffL;
    long pde = entry32(cpu, (s.cr3() & 0xffff_f000L) + ((lin >>> 22) & 1023) * 4);
    if ((pde & P) == 0) {
      return -1;
    }
    if ((pde & PS) != 0 && (s.cr4() & CR4_PSE) != 0) {
      return (pde & 0xffc0_0000L) | ((pde >>> 13) & 0xffL) << 32 | (lin & 0x3f_ffffL);
    }
    long pte = entry32(cpu, (pde & 0xffff_f000L) + ((lin >>> 12) & 1023) * 4);
    if ((pte & P) == 0) {
      return -1;
    }
    return (pte & 0xffff_f000L) | (lin & 0xfff);
  }

  private static long pageDirectory(GuestCpu cpu, long table, long linear) {
    long e = entry(cpu, table + ((linear >>> 21) & 511) * 8);
    if ((e & P) == 0) {
      return -1;
    }
    if ((e & PS) != 0) {
      return (e & ADDR & ~((1L << 21) - 1)) | (linear & ((1L << 21) - 1));
    }
    e = entry(cpu, (e & ADDR) + ((linear >>> 12) & 511) * 8);
    if ((e & P) == 0) {
      return -1;
    }
    return (e & ADDR) | (linear & 0xfff);
  }

  private static long entry(GuestCpu cpu, long physical) {
    byte[] b = cpu.readPhysical(physical, 8);
    return b == null ? 0 : Bytes.le(b, 0, 8);
  }

  private static long entry32(GuestCpu cpu, long physical) {
    byte[] b = cpu.readPhysical(physical, 4);
    return b == null ? 0 : Bytes.le(b, 0, 4);
  }
}
