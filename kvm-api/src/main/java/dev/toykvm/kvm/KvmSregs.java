package dev.toykvm.kvm;

/**
 * {@code struct kvm_sregs}: segment registers with their hidden state, descriptor tables, control
 * registers and EFER ({@code KVM_GET_SREGS} / {@code KVM_SET_SREGS}). The interrupt bitmap of the C
 * struct is not modelled.
 *
 * <p>Records are immutable; each {@code with*} method returns a copy with one field changed, so a C
 * assignment to a field of a segment becomes one line:
 *
 * {@snippet :
 * // sregs.cs.base = 0; sregs.cs.selector = 0;
 * sregs = sregs.withCs(sregs.cs().withBase(0).withSelector(0));
 * // sregs.cr0 |= X86_CR0_PE;
 * sregs = sregs.withCr0(sregs.cr0() | KvmConstants.X86_CR0_PE);
 * }
 */
public record KvmSregs(
    KvmSegment cs,
    KvmSegment ds,
    KvmSegment es,
    KvmSegment fs,
    KvmSegment gs,
    KvmSegment ss,
    KvmSegment tr,
    KvmSegment ldt,
    KvmDtable gdt,
    KvmDtable idt,
    long cr0,
    long cr2,
    long cr3,
    long cr4,
    long cr8,
    long efer,
    long apicBase) {

  /** A copy with CS replaced: sets {@code cs}. */
  public KvmSregs withCs(KvmSegment seg) {
    return new KvmSregs(
        seg, ds, es, fs, gs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase);
  }

  /** A copy with DS replaced: sets {@code ds}. */
  public KvmSregs withDs(KvmSegment v) {
    return new KvmSregs(
        cs, v, es, fs, gs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase);
  }

  /** A copy with ES replaced: sets {@code es}. */
  public KvmSregs withEs(KvmSegment v) {
    return new KvmSregs(
        cs, ds, v, fs, gs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase);
  }

  /** A copy with FS replaced: sets {@code fs}. */
  public KvmSregs withFs(KvmSegment v) {
    return new KvmSregs(
        cs, ds, es, v, gs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase);
  }

  /** A copy with GS replaced: sets {@code gs}. */
  public KvmSregs withGs(KvmSegment v) {
    return new KvmSregs(
        cs, ds, es, fs, v, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase);
  }

  /** A copy with SS replaced: sets {@code ss}. */
  public KvmSregs withSs(KvmSegment v) {
    return new KvmSregs(
        cs, ds, es, fs, gs, v, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase);
  }

  /** A copy with TR (the task register) replaced: sets {@code tr}. */
  public KvmSregs withTr(KvmSegment v) {
    return new KvmSregs(
        cs, ds, es, fs, gs, ss, v, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase);
  }

  /** A copy with LDTR replaced: sets {@code ldt}. */
  public KvmSregs withLdt(KvmSegment v) {
    return new KvmSregs(
        cs, ds, es, fs, gs, ss, tr, v, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase);
  }

  /** A copy with GDTR replaced: sets {@code gdt}. */
  public KvmSregs withGdt(KvmDtable v) {
    return new KvmSregs(
        cs, ds, es, fs, gs, ss, tr, ldt, v, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase);
  }

  /** A copy with IDTR replaced: sets {@code idt}. */
  public KvmSregs withIdt(KvmDtable v) {
    return new KvmSregs(
        cs, ds, es, fs, gs, ss, tr, ldt, gdt, v, cr0, cr2, cr3, cr4, cr8, efer, apicBase);
  }

  /** A copy with CR0 replaced: sets {@code cr0}. */
  public KvmSregs withCr0(long v) {
    return new KvmSregs(
        cs, ds, es, fs, gs, ss, tr, ldt, gdt, idt, v, cr2, cr3, cr4, cr8, efer, apicBase);
  }

  /** A copy with CR2 (the page-fault address) replaced: sets {@code cr2}. */
  public KvmSregs withCr2(long v) {
    return new KvmSregs(
        cs, ds, es, fs, gs, ss, tr, ldt, gdt, idt, cr0, v, cr3, cr4, cr8, efer, apicBase);
  }

  /** A copy with CR3 (the page-table root) replaced: sets {@code cr3}. */
  public KvmSregs withCr3(long v) {
    return new KvmSregs(
        cs, ds, es, fs, gs, ss, tr, ldt, gdt, idt, cr0, cr2, v, cr4, cr8, efer, apicBase);
  }

  /** A copy with CR4 replaced: sets {@code cr4}. */
  public KvmSregs withCr4(long v) {
    return new KvmSregs(
        cs, ds, es, fs, gs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, v, cr8, efer, apicBase);
  }

  /** A copy with CR8 (the task-priority register) replaced: sets {@code cr8}. */
  public KvmSregs withCr8(long v) {
    return new KvmSregs(
        cs, ds, es, fs, gs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, v, efer, apicBase);
  }

  /** A copy with EFER replaced: sets {@code efer}. */
  public KvmSregs withEfer(long v) {
    return new KvmSregs(
        cs, ds, es, fs, gs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, v, apicBase);
  }

  /** A copy with IA32_APIC_BASE replaced: sets {@code apic_base}. */
  public KvmSregs withApicBase(long v) {
    return new KvmSregs(
        cs, ds, es, fs, gs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, v);
  }

  /** A copy with DS, ES, FS, GS and SS all replaced by {@code seg}. */
  public KvmSregs withDataSegments(KvmSegment seg) {
    return new KvmSregs(
        cs, seg, seg, seg, seg, seg, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase);
  }

  /** A copy with new control registers and EFER. */
  public KvmSregs withControl(long newCr0, long newCr3, long newCr4, long newEfer) {
    return new KvmSregs(
        cs, ds, es, fs, gs, ss, tr, ldt, gdt, idt, newCr0, cr2, newCr3, newCr4, cr8, newEfer,
        apicBase);
  }

  /** A copy with new GDTR and IDTR. */
  public KvmSregs withTables(KvmDtable newGdt, KvmDtable newIdt) {
    return new KvmSregs(
        cs, ds, es, fs, gs, ss, tr, ldt, newGdt, newIdt, cr0, cr2, cr3, cr4, cr8, efer, apicBase);
  }
}
