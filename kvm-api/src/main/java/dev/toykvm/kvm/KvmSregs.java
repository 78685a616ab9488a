package dev.toykvm.kvm;

/**
 * {@code struct kvm_sregs}: segment registers with their hidden state, descriptor tables, control
 * registers and EFER ({@code KVM_GET_SREGS} / {@code KVM_SET_SREGS}). The interrupt bitmap of the C
 * struct is not modelled.
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

  /** A copy with CS replaced. */
  public KvmSregs withCs(KvmSegment seg) {
    return new KvmSregs(
        seg, ds, es, fs, gs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase);
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
