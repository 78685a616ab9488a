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

  /** RFLAGS bit 1 is always set on x86; this is the value of RFLAGS after reset. */
  public static final long RFLAGS_RESERVED = 0x2;

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

  public KvmRegs withRax(long value) {
    return with(0, value);
  }

  public KvmRegs withRbx(long value) {
    return with(1, value);
  }

  public KvmRegs withRcx(long value) {
    return with(2, value);
  }

  public KvmRegs withRdx(long value) {
    return with(3, value);
  }

  public KvmRegs withRsi(long value) {
    return with(4, value);
  }

  public KvmRegs withRdi(long value) {
    return with(5, value);
  }

  public KvmRegs withRsp(long value) {
    return with(6, value);
  }

  public KvmRegs withRbp(long value) {
    return with(7, value);
  }

  public KvmRegs withRip(long value) {
    return with(16, value);
  }

  public KvmRegs withRflags(long value) {
    return with(17, value);
  }
}
