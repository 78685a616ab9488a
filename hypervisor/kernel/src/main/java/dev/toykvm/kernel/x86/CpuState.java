package dev.toykvm.kernel.x86;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.toykvm.kernel.unicorn.Uc;
import dev.toykvm.kernel.unicorn.UcEngine;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.KvmSregs;
import java.lang.foreign.MemorySegment;

/**
 * Reads and writes the parts of the vCPU state that Unicorn's register API cannot reach: the hidden
 * part of segment registers (base, limit, attributes) and the flags QEMU derives from them.
 *
 * <p>Unicorn 2.0.1 lets a register write set only a segment's selector, and gives no way to read a
 * segment's base, limit or attributes. But {@code uc_context_save} copies the CPU state ({@code
 * CPUX86State}) as plain bytes and {@code uc_context_restore} copies them back. This class edits
 * those bytes at the offsets of Debian's libunicorn 2.0.1, which {@link #verifyLayout} checks
 * against values written through the register API before any VM is created. It then recomputes the
 * hidden flags that QEMU keeps in step with segment loads ({@code hflags}: CPL, 16/32/64-bit code
 * and stack, whether segment bases must be added), exactly as a real segment load would.
 */
public final class CpuState {
  // Offsets in the CPU state (after the uc_context header); see verifyLayout().
  private static final long EIP = 128;
  private static final long HFLAGS = 176;
  private static final long HFLAGS2 = 180; // right after hflags in CPUX86State
  private static final long SEGS = 184; // ES, CS, SS, DS, FS, GS, then LDT, TR, GDT, IDT
  private static final long SEG_SIZE = 24; // {u32 selector; u64 base; u32 limit; u32 flags}
  private static final int ES = 0;
  private static final int CS = 1;
  private static final int SS = 2;
  private static final int DS = 3;
  private static final int FS = 4;
  private static final int GS = 5;
  private static final int LDT = 6;
  private static final int TR = 7;
  private static final int GDT = 8;
  private static final int IDT = 9;
  private static final long CR = 424; // cr[0..4]
  private static final long EFER = 560;
  // QEMU's env->error_code: the error code of the last exception raised (measured, verifyLayout).
  private static final long ERROR_CODE = 5352;
  // QEMU's env->old_exception ("exception in flight"), after error_code, exception_is_int,
  // exception_next_eip, dr[8] and the four breakpoint pointers.
  private static final long OLD_EXCEPTION = 5464;
  private static final long MIN_SIZE = OLD_EXCEPTION + 4;

  // QEMU's hflags bits.
  private static final int HF_CPL_MASK = 3;
  private static final int HF_CS32 = 1 << 4;
  private static final int HF_SS32 = 1 << 5;
  private static final int HF_ADDSEG = 1 << 6;
  private static final int HF_PE = 1 << 7;
  private static final int HF_MP = 1 << 9;
  private static final int HF_EM = 1 << 10;
  private static final int HF_TS = 1 << 11;
  private static final int HF_LMA = 1 << 14;
  private static final int HF_CS64 = 1 << 15;
  private static final int HF_INHIBIT_IRQ = 1 << 3;
  private static final int HF2_NMI_MASK = 1 << 2; // QEMU's iret helpers clear it

  /** The value of {@code IA32_APIC_BASE} KVM reports for a bootstrap processor. */
  private static final long APIC_BASE_BSP = 0xfee00000L | 0x100 | 0x800;

  private final UcEngine engine;
  private final MemorySegment context;
  private final MemorySegment state;

  public CpuState(UcEngine engine) {
    this.engine = engine;
    this.context = engine.allocContext();
    if (context.byteSize() < UcEngine.CONTEXT_HEADER + MIN_SIZE) {
      throw new IllegalStateException(
          "unsupported libunicorn: its CPU state is " + context.byteSize() + " bytes");
    }
    this.state = context.asSlice(UcEngine.CONTEXT_HEADER);
  }

  /** {@code KVM_GET_REGS}: the general registers, RIP and RFLAGS, in {@code kvm_regs} order. */
  public KvmRegs regs() {
    long[] v = new long[Uc.KVM_REGS_ORDER.length];
    for (int i = 0; i < v.length; i++) {
      v[i] = engine.readReg(Uc.KVM_REGS_ORDER[i]);
    }
    return KvmRegs.fromArray(v);
  }

  /** {@code KVM_SET_REGS}. */
  public void setRegs(KvmRegs regs) {
    long[] v = regs.toArray();
    for (int i = 0; i < v.length; i++) {
      engine.writeReg(Uc.KVM_REGS_ORDER[i], v[i]);
    }
  }

  /** {@code KVM_GET_SREGS}. */
  public KvmSregs read() {
    engine.saveContext(context);
    return new KvmSregs(
        segment(CS),
        segment(DS),
        segment(ES),
        segment(FS),
        segment(GS),
        segment(SS),
        segment(TR),
        segment(LDT),
        table(GDT),
        table(IDT),
        state.get(JAVA_LONG, CR),
        state.get(JAVA_LONG, CR + 16),
        state.get(JAVA_LONG, CR + 24),
        state.get(JAVA_LONG, CR + 32),
        0,
        state.get(JAVA_LONG, EFER),
        APIC_BASE_BSP);
  }

  /**
   * {@code KVM_SET_SREGS}. The caller has validated {@code s} ({@link SregsValidator}). CR4 goes
   * through the register API (so QEMU updates what hangs on it); the rest is written into the state
   * bytes, and the TLB is flushed as a control-register write would.
   */
  public void write(KvmSregs s) {
    engine.writeReg(Uc.X86_REG_CR4, s.cr4());
    engine.saveContext(context);
    setSegment(CS, s.cs());
    setSegment(DS, s.ds());
    setSegment(ES, s.es());
    setSegment(FS, s.fs());
    setSegment(GS, s.gs());
    setSegment(SS, s.ss());
    setSegment(TR, s.tr());
    setSegment(LDT, s.ldt());
    setTable(GDT, s.gdt());
    setTable(IDT, s.idt());
    state.set(JAVA_LONG, CR, s.cr0());
    state.set(JAVA_LONG, CR + 16, s.cr2());
    state.set(JAVA_LONG, CR + 24, s.cr3());
    state.set(JAVA_LONG, EFER, s.efer());
    int old = state.get(JAVA_INT, HFLAGS);
    state.set(JAVA_INT, HFLAGS, hflags(old, s));
    engine.restoreContext(context);
    // Flush the TLB: a CR4.PGE toggle flushes whatever CR0.PG says.
    engine.writeReg(Uc.X86_REG_CR4, s.cr4() ^ (1L << 7));
    engine.writeReg(Uc.X86_REG_CR4, s.cr4());
  }

  /**
   * Whether the CPU is in an STI or MOV SS shadow (QEMU's {@code HF_INHIBIT_IRQ_MASK}): no external
   * interrupt may be taken before the next instruction completes.
   */
  public boolean interruptShadow() {
    engine.saveContext(context);
    return (state.get(JAVA_INT, HFLAGS) & HF_INHIBIT_IRQ) != 0;
  }

  /**
   * The error code of the exception QEMU raised last ({@code env->error_code}): for #TS, #NP, #SS,
   * #GP, #PF and #AC, the code the CPU pushes. Read in the interrupt hook, before anything else
   * runs.
   */
  public int errorCode() {
    engine.saveContext(context);
    return state.get(JAVA_INT, ERROR_CODE);
  }

  /**
   * Ends the exception QEMU raised last, as its own delivery does ({@code env->old_exception =
   * -1}). QEMU turns a #PF or contributory exception raised while {@code old_exception} still names
   * one into a double fault, and a fault while it names #DF into a triple fault (a silent stop of
   * {@code uc_emu_start}); since Unicorn never delivers, the field would otherwise keep the first
   * exception for ever, and the guest's second page fault would stop the vCPU. toykvm's own
   * delivery decides double and triple faults ({@link ExceptionDelivery}).
   */
  public void endException() {
    engine.saveContext(context);
    if (state.get(JAVA_INT, OLD_EXCEPTION) != -1) {
      state.set(JAVA_INT, OLD_EXCEPTION, -1);
      engine.restoreContext(context);
    }
  }

  /** QEMU's {@code env->old_exception}, for tests and checks. */
  public int exceptionInFlight() {
    engine.saveContext(context);
    return state.get(JAVA_INT, OLD_EXCEPTION);
  }

  /** CR2, the last page-fault address. */
  public long cr2() {
    engine.saveContext(context);
    return state.get(JAVA_LONG, CR + 16);
  }

  /**
   * Puts CR2 back after {@code uc_emu_start(..., until)}: with paging on, Unicorn 2.0.1 leaves CR2
   * at {@code until - 1} when it returns (measured: the guest saw its own value during the run).
   * The guest's value is the address of a #PF raised in the run ({@code faultAddress}, read in the
   * interrupt hook) or else the value {@code before} the run. Not exact: a guest {@code mov cr2} in
   * a run that then ends is undone.
   */
  public void repairCr2(long before, long until, boolean faulted, long faultAddress) {
    long after = cr2();
    long want = faulted ? faultAddress : before;
    if (after != want && after == until - 1) {
      state.set(JAVA_LONG, CR + 16, want);
      engine.restoreContext(context);
    }
  }

  /**
   * Whether NMIs are blocked (QEMU's {@code HF2_NMI_MASK} in {@code hflags2}): from an NMI's
   * delivery until the next IRET, which clears the bit itself (QEMU's real-mode and protected-mode
   * iret helpers do).
   */
  public boolean nmiBlocked() {
    engine.saveContext(context);
    return (state.get(JAVA_INT, HFLAGS2) & HF2_NMI_MASK) != 0;
  }

  /** Sets or clears NMI blocking (see {@link #nmiBlocked}). */
  public void setNmiBlocked(boolean blocked) {
    engine.saveContext(context);
    int h2 = state.get(JAVA_INT, HFLAGS2);
    state.set(JAVA_INT, HFLAGS2, blocked ? h2 | HF2_NMI_MASK : h2 & ~HF2_NMI_MASK);
    engine.restoreContext(context);
  }

  /** The CPU's current linear-address base of CS, for turning RIP into a linear address. */
  public long csBase() {
    engine.saveContext(context);
    return state.get(JAVA_LONG, SEGS + CS * SEG_SIZE + 8);
  }

  /** The hidden flags a real CPU would hold after loading this state (QEMU's hflags rules). */
  static int hflags(int old, KvmSregs s) {
    int h = old & ~(HF_CPL_MASK | HF_CS32 | HF_SS32 | HF_ADDSEG | HF_PE | HF_MP | HF_EM | HF_TS);
    h &= ~(HF_LMA | HF_CS64);
    boolean pe = (s.cr0() & KvmConstants.X86_CR0_PE) != 0;
    boolean lma = (s.efer() & KvmConstants.EFER_LMA) != 0;
    if (pe) {
      h |= HF_PE;
    }
    h |= (int) ((s.cr0() << 8) & (HF_MP | HF_EM | HF_TS));
    if (lma) {
      h |= HF_LMA;
    }
    boolean cs64 = lma && s.cs().l();
    if (cs64) {
      h |= HF_CS32 | HF_SS32 | HF_CS64;
    } else {
      h |= s.cs().db() ? HF_CS32 : 0;
      h |= s.ss().db() ? HF_SS32 : 0;
    }
    h |= pe ? s.ss().dpl() & 3 : 0;
    if (!cs64) {
      boolean addseg = !pe || !s.cs().db() || (s.ds().base() | s.es().base() | s.ss().base()) != 0;
      h |= addseg ? HF_ADDSEG : 0;
    }
    return h;
  }

  private KvmSegment segment(int index) {
    long at = SEGS + index * SEG_SIZE;
    return SegmentFlags.decode(
        state.get(JAVA_INT, at),
        state.get(JAVA_LONG, at + 8),
        Integer.toUnsignedLong(state.get(JAVA_INT, at + 16)),
        state.get(JAVA_INT, at + 20));
  }

  private void setSegment(int index, KvmSegment seg) {
    long at = SEGS + index * SEG_SIZE;
    state.set(JAVA_INT, at, seg.selector() & 0xffff);
    state.set(JAVA_LONG, at + 8, seg.base());
    state.set(JAVA_INT, at + 16, (int) seg.limit());
    state.set(JAVA_INT, at + 20, SegmentFlags.encode(seg));
  }

  private KvmDtable table(int index) {
    long at = SEGS + index * SEG_SIZE;
    return new KvmDtable(state.get(JAVA_LONG, at + 8), state.get(JAVA_INT, at + 16) & 0xffff);
  }

  private void setTable(int index, KvmDtable table) {
    long at = SEGS + index * SEG_SIZE;
    state.set(JAVA_LONG, at + 8, table.base());
    state.set(JAVA_INT, at + 16, table.limit() & 0xffff);
  }

  /**
   * Checks, on a throwaway engine, that the CPU-state offsets this class uses are those of the
   * loaded libunicorn: values written through the register API must appear where expected.
   *
   * @throws IllegalStateException naming the first field that does not match
   */
  public static void verifyLayout(UcEngine probe) {
    verifyErrorCode(probe);
    probe.writeReg(Uc.X86_REG_RAX, 0x0123_4567_89ab_cdefL);
    probe.writeReg(Uc.X86_REG_RIP, 0x11_2233_4455L);
    probe.writeReg16(Uc.X86_REG_CS, 0x1234);
    probe.writeMmr(Uc.X86_REG_GDTR, 0, 0x5555000, 0x77, 0);
    probe.writeMmr(Uc.X86_REG_IDTR, 0, 0x6666000, 0x88, 0);
    probe.writeMmr(Uc.X86_REG_TR, 0x40, 0x7777000, 0x67, 0x8b00);
    probe.writeReg(Uc.X86_REG_CR3, 0x7000);
    probe.writeReg(Uc.X86_REG_FS_BASE, 0x9999000);
    CpuState cpu = new CpuState(probe);
    probe.saveContext(cpu.context);
    MemorySegment st = cpu.state;
    expect(st.get(JAVA_LONG, 0), 0x0123_4567_89ab_cdefL, "RAX at 0");
    expect(st.get(JAVA_LONG, EIP), 0x11_2233_4455L, "EIP at 128");
    expect(st.get(JAVA_INT, SEGS + CS * SEG_SIZE), 0x1234, "CS selector");
    expect(st.get(JAVA_LONG, SEGS + FS * SEG_SIZE + 8), 0x9999000, "FS base");
    expect(st.get(JAVA_LONG, SEGS + GDT * SEG_SIZE + 8), 0x5555000, "GDTR base");
    expect(st.get(JAVA_INT, SEGS + GDT * SEG_SIZE + 16), 0x77, "GDTR limit");
    expect(st.get(JAVA_LONG, SEGS + IDT * SEG_SIZE + 8), 0x6666000, "IDTR base");
    expect(st.get(JAVA_INT, SEGS + TR * SEG_SIZE), 0x40, "TR selector");
    expect(st.get(JAVA_INT, SEGS + TR * SEG_SIZE + 20), 0x8b00, "TR flags");
    expect(st.get(JAVA_LONG, CR + 24), 0x7000, "CR3");
    expect(st.get(JAVA_LONG, EFER), probe.readMsr(Uc.MSR_EFER), "EFER");
  }

  /**
   * Runs {@code mov ax, 0x1234; mov ds, ax} on the fresh probe (GDT limit 0): #GP(0x1234), whose
   * error code must then be at {@link #ERROR_CODE}. The probe has no interrupt hook, so the
   * exception ends the run.
   */
  private static void verifyErrorCode(UcEngine probe) {
    long page = 0x1000;
    probe.map(page, 0x1000, Uc.PROT_ALL);
    probe.tryWrite(page, new byte[] {0x66, (byte) 0xb8, 0x34, 0x12, (byte) 0x8e, (byte) 0xd8});
    probe.start(page, page + 6);
    CpuState cpu = new CpuState(probe);
    expect(cpu.errorCode(), 0x1234, "error code of #GP(0x1234)");
    expect(cpu.exceptionInFlight(), 13, "old_exception after #GP");
    probe.unmap(page, 0x1000);
  }

  private static void expect(long actual, long expected, String what) {
    if (actual != expected) {
      throw new IllegalStateException(
          "unsupported libunicorn build: the CPU state layout differs from Debian's 2.0.1 ("
              + what
              + ": found 0x"
              + Long.toHexString(actual)
              + ", expected 0x"
              + Long.toHexString(expected)
              + ")");
    }
  }
}
