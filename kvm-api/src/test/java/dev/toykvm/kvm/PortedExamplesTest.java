package dev.toykvm.kvm;

import static dev.toykvm.kvm.KvmConstants.EFER_LMA;
import static dev.toykvm.kvm.KvmConstants.EFER_LME;
import static dev.toykvm.kvm.KvmConstants.PDE64_PRESENT;
import static dev.toykvm.kvm.KvmConstants.PDE64_PS;
import static dev.toykvm.kvm.KvmConstants.PDE64_RW;
import static dev.toykvm.kvm.KvmConstants.PDE64_USER;
import static dev.toykvm.kvm.KvmConstants.X86_CR0_AM;
import static dev.toykvm.kvm.KvmConstants.X86_CR0_ET;
import static dev.toykvm.kvm.KvmConstants.X86_CR0_MP;
import static dev.toykvm.kvm.KvmConstants.X86_CR0_NE;
import static dev.toykvm.kvm.KvmConstants.X86_CR0_PE;
import static dev.toykvm.kvm.KvmConstants.X86_CR0_PG;
import static dev.toykvm.kvm.KvmConstants.X86_CR0_WP;
import static dev.toykvm.kvm.KvmConstants.X86_CR4_PAE;
import static dev.toykvm.kvm.KvmConstants.X86_CR4_PSE;
import static dev.toykvm.kvm.KvmConstants.X86_EFLAGS_FIXED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The register set-up of kvm-hello-world's four modes (real, protected, 32-bit paged, long), ported
 * line by line from C with the {@code with*} methods and the {@link KvmConstants} bits, and checked
 * field by field. No VM runs: {@link #getSregs()} stands in for {@code KVM_GET_SREGS} on a fresh
 * vCPU. Each C statement is quoted above its port; this is the idiom the package javadoc describes.
 */
class PortedExamplesTest {

  /** kvm-hello-world's stack top for the protected, paged and long modes. */
  static final long STACK_TOP = 2 << 20;

  /**
   * What {@code KVM_GET_SREGS} returns for a vCPU just created: the state after RESET (Intel SDM
   * Vol. 3A, table "IA-32 and Intel 64 Processor States Following Power-up, Reset, or INIT").
   */
  static KvmSregs getSregs() {
    KvmSegment data =
        KvmSegment.ZERO
            .withLimit(0xffff)
            .withType(KvmSegment.TYPE_DATA_RW_ACCESSED)
            .withPresent(true)
            .withS(true);
    KvmSegment cs =
        data.withSelector(0xf000).withBase(0xffff_0000L).withType(KvmSegment.TYPE_CODE_XR_ACCESSED);
    KvmSegment ldt = KvmSegment.ZERO.withLimit(0xffff).withType(2).withPresent(true);
    KvmSegment tr = ldt.withType(0xb);
    KvmDtable table = new KvmDtable(0, 0xffff);
    return new KvmSregs(
        cs,
        data,
        data,
        data,
        data,
        data,
        tr,
        ldt,
        table,
        table,
        0x6000_0010L,
        0,
        0,
        0,
        0,
        0,
        0xfee0_0900L);
  }

  // --- run_real_mode ---------------------------------------------------------------------------

  @Test
  void realMode() {
    KvmSregs sregs = getSregs();
    // sregs.cs.selector = 0;
    // sregs.cs.base = 0;
    sregs = sregs.withCs(sregs.cs().withSelector(0).withBase(0));

    // memset(&regs, 0, sizeof(regs));
    // /* Clear all FLAGS bits, except bit 1 which is always set. */
    // regs.rflags = 2;
    // regs.rip = 0;
    KvmRegs regs = KvmRegs.ZERO.withRflags(X86_EFLAGS_FIXED).withRip(0);

    assertEquals(0, sregs.cs().selector());
    assertEquals(0, sregs.cs().base());
    assertEquals(0xffff, sregs.cs().limit(), "the rest of CS is left as reset made it");
    assertEquals(0xb, sregs.cs().type());
    assertEquals(getSregs().ds(), sregs.ds());
    assertEquals(0, sregs.cr0() & X86_CR0_PE, "still real mode");
    assertEquals(0x2, regs.rflags());
    assertEquals(0, regs.rip());
    assertEquals(KvmRegs.reset(), regs);
  }

  // --- run_protected_mode ----------------------------------------------------------------------

  /** setup_protected_mode(&sregs). */
  static KvmSregs setupProtectedMode(KvmSregs sregs) {
    // struct kvm_segment seg = {
    //   .base = 0, .limit = 0xffffffff, .selector = 1 << 3, .present = 1,
    //   .type = 11, /* Code: execute, read, accessed */
    //   .dpl = 0, .db = 1, .s = 1, /* Code/data */ .l = 0, .g = 1, /* 4KB granularity */
    // };
    KvmSegment seg =
        KvmSegment.ZERO
            .withBase(0)
            .withLimit(0xffff_ffffL)
            .withSelector(1 << 3)
            .withPresent(true)
            .withType(11)
            .withDpl(0)
            .withDb(true)
            .withS(true)
            .withL(false)
            .withG(true);
    // sregs->cr0 |= CR0_PE; /* enter protected mode */
    sregs = sregs.withCr0(sregs.cr0() | X86_CR0_PE);
    // sregs->cs = seg;
    sregs = sregs.withCs(seg);
    // seg.type = 3; /* Data: read/write, accessed */
    // seg.selector = 2 << 3;
    seg = seg.withType(3).withSelector(2 << 3);
    // sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = seg;
    return sregs.withDs(seg).withEs(seg).withFs(seg).withGs(seg).withSs(seg);
  }

  /** memset(&regs, 0, sizeof(regs)); regs.rflags = 2; regs.rip = 0; regs.rsp = 2 << 20; */
  static KvmRegs stackRegs() {
    return KvmRegs.ZERO.withRflags(X86_EFLAGS_FIXED).withRip(0).withRsp(STACK_TOP);
  }

  @Test
  void protectedMode() {
    KvmSregs sregs = setupProtectedMode(getSregs());
    KvmRegs regs = stackRegs();

    assertEquals(X86_CR0_PE, sregs.cr0() & X86_CR0_PE);
    assertEquals(0x6000_0011L, sregs.cr0(), "PE added to the reset CR0, nothing else");
    assertFlat32(sregs.cs(), 0x08, 0xb);
    for (KvmSegment data : new KvmSegment[] {sregs.ds(), sregs.es(), sregs.fs(), sregs.gs()}) {
      assertFlat32(data, 0x10, 0x3);
    }
    assertFlat32(sregs.ss(), 0x10, 0x3);
    assertEquals(getSregs().tr(), sregs.tr(), "TR untouched");
    assertEquals(0, sregs.cr3());
    assertEquals(0, sregs.efer());
    assertEquals(KvmSegment.flat32(0x08, true), sregs.cs(), "same as the flat32 factory");
    assertEquals(KvmSegment.flat32(0x10, false), sregs.ds());

    assertEquals(0x20_0000L, regs.rsp());
    assertEquals(0x2, regs.rflags());
    assertEquals(0, regs.rip());
    assertEquals(0, regs.rax());
  }

  // --- run_paged_32bit_mode --------------------------------------------------------------------

  @Test
  void paged32BitMode() {
    KvmSregs sregs = setupProtectedMode(getSregs());
    // uint32_t pd_addr = 0x2000;
    long pdAddr = 0x2000;
    // pd[0] = PDE32_PRESENT | PDE32_RW | PDE32_USER | PDE32_PS;  (bits 0-8 as in PDE64_*)
    long pde = PDE64_PRESENT | PDE64_RW | PDE64_USER | PDE64_PS;
    // sregs->cr3 = pd_addr;
    // sregs->cr4 = CR4_PSE;
    // sregs->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
    // sregs->efer = 0;
    sregs =
        sregs
            .withCr3(pdAddr)
            .withCr4(X86_CR4_PSE)
            .withCr0(
                X86_CR0_PE
                    | X86_CR0_MP
                    | X86_CR0_ET
                    | X86_CR0_NE
                    | X86_CR0_WP
                    | X86_CR0_AM
                    | X86_CR0_PG)
            .withEfer(0);
    KvmRegs regs = stackRegs();

    assertEquals(0x87, pde, "a present, writable, user 4 MiB page at 0");
    assertEquals(0x2000, sregs.cr3());
    assertEquals(0x10, sregs.cr4());
    assertEquals(0x8005_0033L, sregs.cr0());
    assertTrue((sregs.cr0() & X86_CR0_PG) != 0 && (sregs.cr0() & X86_CR0_PE) != 0);
    assertEquals(0, sregs.efer());
    assertFlat32(sregs.cs(), 0x08, 0xb);
    assertFlat32(sregs.ss(), 0x10, 0x3);
    assertEquals(STACK_TOP, regs.rsp());
  }

  // --- run_long_mode ---------------------------------------------------------------------------

  @Test
  void longMode() {
    KvmSregs sregs = getSregs();
    // uint64_t pml4_addr = 0x2000, pdpt_addr = 0x3000, pd_addr = 0x4000;
    long pml4Addr = 0x2000;
    long pdptAddr = 0x3000;
    long pdAddr = 0x4000;
    // pml4[0] = PDE64_PRESENT | PDE64_RW | PDE64_USER | pdpt_addr;
    // pdpt[0] = PDE64_PRESENT | PDE64_RW | PDE64_USER | pd_addr;
    // pd[0] = PDE64_PRESENT | PDE64_RW | PDE64_USER | PDE64_PS;
    long pml4e = PDE64_PRESENT | PDE64_RW | PDE64_USER | pdptAddr;
    long pdpte = PDE64_PRESENT | PDE64_RW | PDE64_USER | pdAddr;
    long pde = PDE64_PRESENT | PDE64_RW | PDE64_USER | PDE64_PS;
    // sregs->cr3 = pml4_addr;
    // sregs->cr4 = CR4_PAE;
    // sregs->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
    // sregs->efer = EFER_LME | EFER_LMA;
    sregs =
        sregs
            .withCr3(pml4Addr)
            .withCr4(X86_CR4_PAE)
            .withCr0(
                X86_CR0_PE
                    | X86_CR0_MP
                    | X86_CR0_ET
                    | X86_CR0_NE
                    | X86_CR0_WP
                    | X86_CR0_AM
                    | X86_CR0_PG)
            .withEfer(EFER_LME | EFER_LMA);
    // setup_64bit_code_segment(sregs):
    // struct kvm_segment seg = {
    //   .base = 0, .limit = 0xffffffff, .selector = 1 << 3, .present = 1,
    //   .type = 11, /* Code: execute, read, accessed */
    //   .dpl = 0, .db = 0, .s = 1, /* Code/data */ .l = 1, .g = 1, /* 4KB granularity */
    // };
    KvmSegment seg =
        KvmSegment.ZERO
            .withLimit(0xffff_ffffL)
            .withSelector(1 << 3)
            .withPresent(true)
            .withType(11)
            .withS(true)
            .withL(true)
            .withG(true);
    // sregs->cs = seg;
    sregs = sregs.withCs(seg);
    // seg.type = 3; /* Data: read/write, accessed */
    // seg.selector = 2 << 3;
    // sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = seg;
    sregs = sregs.withDataSegments(seg.withType(3).withSelector(2 << 3));
    KvmRegs regs = stackRegs();

    assertEquals(0x3007, pml4e);
    assertEquals(0x4007, pdpte);
    assertEquals(0x87, pde);
    assertEquals(0x2000, sregs.cr3());
    assertEquals(0x20, sregs.cr4());
    assertEquals(0x8005_0033L, sregs.cr0());
    assertEquals(0x500, sregs.efer());
    KvmSegment cs = sregs.cs();
    assertTrue(cs.l(), "64-bit code segment");
    assertFalse(cs.db(), "L and D/B may not both be set");
    assertEquals(0x08, cs.selector());
    assertEquals(0xb, cs.type());
    assertEquals(0, cs.base());
    assertEquals(0xffff_ffffL, cs.limit());
    assertTrue(cs.present() && cs.s() && cs.g());
    assertEquals(0, cs.dpl());
    for (KvmSegment data :
        new KvmSegment[] {sregs.ds(), sregs.es(), sregs.fs(), sregs.gs(), sregs.ss()}) {
      assertEquals(0x10, data.selector());
      assertEquals(0x3, data.type());
      assertTrue(data.l(), "kvm-hello-world copies L=1 into the data segments (ignored there)");
    }
    assertEquals(getSregs().gdt(), sregs.gdt(), "kvm-hello-world loads no GDT");
    assertEquals(STACK_TOP, regs.rsp());
    assertEquals(0x2, regs.rflags());
  }

  private static void assertFlat32(KvmSegment seg, int selector, int type) {
    assertEquals(0, seg.base());
    assertEquals(0xffff_ffffL, seg.limit());
    assertEquals(selector, seg.selector());
    assertEquals(type, seg.type());
    assertTrue(seg.present());
    assertEquals(0, seg.dpl());
    assertTrue(seg.db(), "32-bit default operand size");
    assertTrue(seg.s());
    assertFalse(seg.l());
    assertTrue(seg.g());
    assertFalse(seg.avl());
    assertFalse(seg.unusable());
  }
}
