package dev.toykvm.kvm;

/**
 * {@code struct kvm_regs}: the general-purpose registers, RIP and RFLAGS of a vCPU ({@code
 * KVM_GET_REGS} / {@code KVM_SET_REGS}).
 *
 * <p>Records are immutable; the {@code with*} methods return a copy with one register changed:
 *
 * {@snippet :
 * vcpu.setRegs(vcpu.getRegs().withRip(0x1000).withRflags(0x2));
 * }
 *
 * <p>C code that clears the struct and sets a few registers starts from {@link #ZERO}:
 *
 * {@snippet :
 * // memset(&regs, 0, sizeof(regs)); regs.rflags = 2; regs.rip = 0; regs.rsp = 2 << 20;
 * KvmRegs regs = KvmRegs.ZERO.withRflags(X86_EFLAGS_FIXED).withRip(0).withRsp(2 << 20);
 * }
 */
public record KvmRegs(
    long rax,
    long rbx,
    long rcx,
    long rdx,
    long rsi,
    long rdi,
    long rsp,
    long rbp,
    long r8,
    long r9,
    long r10,
    long r11,
    long r12,
    long r13,
    long r14,
    long r15,
    long rip,
    long rflags) {

  /**
   * RFLAGS bit 1 is always set on x86; this is the value of RFLAGS after reset. The same value as
   * {@link KvmConstants#X86_EFLAGS_FIXED}.
   */
  public static final long RFLAGS_RESERVED = 0x2;

  /**
   * Every register zero, as {@code memset(&regs, 0, sizeof(regs))} in C. RFLAGS bit 1 is clear
   * here; set it with {@code withRflags(X86_EFLAGS_FIXED)} or start from {@link #reset()}.
   */
  public static final KvmRegs ZERO =
      new KvmRegs(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

  /** All registers zero but the always-one RFLAGS bit, as after {@code INIT}. */
  public static KvmRegs reset() {
    return new KvmRegs(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, RFLAGS_RESERVED);
  }

  /** The 18 values in {@code struct kvm_regs} order, for code that treats them uniformly. */
  public long[] toArray() {
    return new long[] {
      rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rip, rflags
    };
  }

  /** The inverse of {@link #toArray()}. */
  public static KvmRegs fromArray(long[] v) {
    if (v.length != 18) {
      throw new IllegalArgumentException("kvm_regs has 18 registers, got " + v.length);
    }
    return new KvmRegs(
        v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13],
        v[14], v[15], v[16], v[17]);
  }

  private KvmRegs with(int index, long value) {
    long[] v = toArray();
    v[index] = value;
    return fromArray(v);
  }

  /** A copy with RAX set to {@code value}: sets {@code rax}. */
  public KvmRegs withRax(long value) {
    return with(0, value);
  }

  /** A copy with RBX set to {@code value}: sets {@code rbx}. */
  public KvmRegs withRbx(long value) {
    return with(1, value);
  }

  /** A copy with RCX set to {@code value}: sets {@code rcx}. */
  public KvmRegs withRcx(long value) {
    return with(2, value);
  }

  /** A copy with RDX set to {@code value}: sets {@code rdx}. */
  public KvmRegs withRdx(long value) {
    return with(3, value);
  }

  /** A copy with RSI set to {@code value}: sets {@code rsi}. */
  public KvmRegs withRsi(long value) {
    return with(4, value);
  }

  /** A copy with RDI set to {@code value}: sets {@code rdi}. */
  public KvmRegs withRdi(long value) {
    return with(5, value);
  }

  /** A copy with RSP set to {@code value}: sets {@code rsp}. */
  public KvmRegs withRsp(long value) {
    return with(6, value);
  }

  /** A copy with RBP set to {@code value}: sets {@code rbp}. */
  public KvmRegs withRbp(long value) {
    return with(7, value);
  }

  /** A copy with R8 set to {@code value}: sets {@code r8}. */
  public KvmRegs withR8(long value) {
    return with(8, value);
  }

  /** A copy with R9 set to {@code value}: sets {@code r9}. */
  public KvmRegs withR9(long value) {
    return with(9, value);
  }

  /** A copy with R10 set to {@code value}: sets {@code r10}. */
  public KvmRegs withR10(long value) {
    return with(10, value);
  }

  /** A copy with R11 set to {@code value}: sets {@code r11}. */
  public KvmRegs withR11(long value) {
    return with(11, value);
  }

  /** A copy with R12 set to {@code value}: sets {@code r12}. */
  public KvmRegs withR12(long value) {
    return with(12, value);
  }

  /** A copy with R13 set to {@code value}: sets {@code r13}. */
  public KvmRegs withR13(long value) {
    return with(13, value);
  }

  /** A copy with R14 set to {@code value}: sets {@code r14}. */
  public KvmRegs withR14(long value) {
    return with(14, value);
  }

  /** A copy with R15 set to {@code value}: sets {@code r15}. */
  public KvmRegs withR15(long value) {
    return with(15, value);
  }

  /** A copy with RIP set to {@code value}: sets {@code rip}. */
  public KvmRegs withRip(long value) {
    return with(16, value);
  }

  /** A copy with RFLAGS set to {@code value}: sets {@code rflags}. */
  public KvmRegs withRflags(long value) {
    return with(17, value);
  }
}
