package dev.toykvm.kvm;

/**
 * {@code struct kvm_cpuid_entry2}: what the guest's {@code CPUID} answers for one leaf (and
 * subleaf), for {@link Kvm#getSupportedCpuid()} and {@link VcpuFd#setCpuid2}.
 *
 * @param function the leaf ({@code EAX} on input)
 * @param index the subleaf ({@code ECX} on input); it matters only with {@link
 *     KvmConstants#KVM_CPUID_FLAG_SIGNIFCANT_INDEX} in {@code flags}
 * @param flags {@link KvmConstants#KVM_CPUID_FLAG_SIGNIFCANT_INDEX} or 0
 * @param eax the answer's {@code EAX}
 * @param ebx the answer's {@code EBX}
 * @param ecx the answer's {@code ECX}
 * @param edx the answer's {@code EDX}
 */
public record KvmCpuidEntry2(
    int function, int index, int flags, int eax, int ebx, int ecx, int edx) {

  /** Whether this entry answers {@code CPUID} with {@code EAX = function}, {@code ECX = index}. */
  public boolean matches(int function, int index) {
    return this.function == function
        && ((flags & KvmConstants.KVM_CPUID_FLAG_SIGNIFCANT_INDEX) == 0 || this.index == index);
  }

  /** A copy with another {@code function}. */
  public KvmCpuidEntry2 withFunction(int value) {
    return new KvmCpuidEntry2(value, index, flags, eax, ebx, ecx, edx);
  }

  /** A copy with another {@code index}. */
  public KvmCpuidEntry2 withIndex(int value) {
    return new KvmCpuidEntry2(function, value, flags, eax, ebx, ecx, edx);
  }

  /** A copy with another {@code flags}. */
  public KvmCpuidEntry2 withFlags(int value) {
    return new KvmCpuidEntry2(function, index, value, eax, ebx, ecx, edx);
  }

  /** A copy with another {@code eax}. */
  public KvmCpuidEntry2 withEax(int value) {
    return new KvmCpuidEntry2(function, index, flags, value, ebx, ecx, edx);
  }

  /** A copy with another {@code ebx}. */
  public KvmCpuidEntry2 withEbx(int value) {
    return new KvmCpuidEntry2(function, index, flags, eax, value, ecx, edx);
  }

  /** A copy with another {@code ecx}. */
  public KvmCpuidEntry2 withEcx(int value) {
    return new KvmCpuidEntry2(function, index, flags, eax, ebx, value, edx);
  }

  /** A copy with another {@code edx}. */
  public KvmCpuidEntry2 withEdx(int value) {
    return new KvmCpuidEntry2(function, index, flags, eax, ebx, ecx, value);
  }
}
