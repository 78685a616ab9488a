package dev.toykvm.kernel;

import static dev.toykvm.kvm.KvmConstants.KVM_CPUID_FLAG_SIGNIFCANT_INDEX;

import dev.toykvm.kvm.KvmCpuidEntry2;
import java.util.List;

/**
 * {@code KVM_GET_SUPPORTED_CPUID}: what Debian's libunicorn 2.0.1 (QEMU 5's TCG) really executes,
 * measured on the engine (its own CPUID, and each feature below run in a guest), and nothing more.
 *
 * <p>Left out although a CPU model of QEMU's would claim them: NX and SYSCALL (Unicorn's CPU model
 * lacks both, and its {@code wrmsr} to EFER silently drops NXE and SCE: measured, so a guest that
 * set them would run without them), MTRR, MCE/MCA (their MSRs), x2APIC and the TSC-deadline timer
 * (MSR writes cannot be intercepted), XSAVE, RDTSCP and 3DNow!.
 */
final class SupportedCpuid {
  private SupportedCpuid() {}

  /** "AuthenticAMD", as Unicorn's (and QEMU's qemu64) CPU model reports it. */
  static final int VENDOR_EBX = 0x6874_7541;

  static final int VENDOR_EDX = 0x6974_6e65;
  static final int VENDOR_ECX = 0x444d_4163;

  /** Family 6, model 6, stepping 3: Unicorn's signature. */
  static final int SIGNATURE = 0x663;

  // Leaf 1 EDX: FPU, PSE, TSC, MSR, PAE, CX8, APIC, SEP, PGE, CMOV, PAT, PSE36, CLFLUSH, MMX, FXSR,
  // SSE, SSE2.
  static final int LEAF1_EDX =
      1 | 1 << 3 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 8 | 1 << 9 | 1 << 11 | 1 << 13 | 1 << 15
          | 1 << 16 | 1 << 17 | 1 << 19 | 1 << 23 | 1 << 24 | 1 << 25 | 1 << 26;

  /** Leaf 1 ECX as Unicorn reports it: SSSE3, CX16, SSE4.1, SSE4.2, AES. */
  static final int LEAF1_ECX = 1 << 9 | 1 << 13 | 1 << 19 | 1 << 20 | 1 << 25;

  /** Leaf 1 EBX: CLFLUSH line size 8 x 8 bytes (the VMM adds the APIC ID and CPU count). */
  static final int LEAF1_EBX = 8 << 8;

  /** Leaf 7.0 EBX as Unicorn reports it: BMI1, BMI2, ADX, SMAP. */
  static final int LEAF7_EBX = 1 << 3 | 1 << 8 | 1 << 19 | 1 << 20;

  /** Leaf 0x80000001 EDX: LM only (see the class comment for NX and SYSCALL). */
  static final int EXT1_EDX = 1 << 29;

  /** Leaf 0x80000001 ECX: LAHF/SAHF in 64-bit mode, ABM (LZCNT). */
  static final int EXT1_ECX = 1 | 1 << 5;

  /** Leaf 0x80000008 EAX: 36 physical address bits (the memory map's limit), 48 linear. */
  static final int ADDRESS_WIDTHS = 48 << 8 | 36;

  private static final String BRAND = "toykvm vCPU (Unicorn TCG)";

  static List<KvmCpuidEntry2> table() {
    var t = new java.util.ArrayList<KvmCpuidEntry2>();
    t.add(leaf(0, 0xb, VENDOR_EBX, VENDOR_ECX, VENDOR_EDX));
    t.add(leaf(1, SIGNATURE, LEAF1_EBX, LEAF1_ECX, LEAF1_EDX));
    t.add(subleaf(7, 0, 0, LEAF7_EBX, 0, 0));
    t.add(subleaf(0xb, 0, 0, 0, 0, 0)); // topology: the VMM fills it per vCPU
    t.add(subleaf(0xb, 1, 0, 0, 0, 0));
    t.add(leaf(0x8000_0000, 0x8000_0008, VENDOR_EBX, VENDOR_ECX, VENDOR_EDX));
    t.add(leaf(0x8000_0001, SIGNATURE, 0, EXT1_ECX, EXT1_EDX));
    byte[] brand =
        java.util.Arrays.copyOf(BRAND.getBytes(java.nio.charset.StandardCharsets.US_ASCII), 48);
    var b = java.nio.ByteBuffer.wrap(brand).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 3; i++) {
      t.add(leaf(0x8000_0002 + i, b.getInt(), b.getInt(), b.getInt(), b.getInt()));
    }
    t.add(leaf(0x8000_0008, ADDRESS_WIDTHS, 0, 0, 0));
    return t;
  }

  private static KvmCpuidEntry2 leaf(int function, int eax, int ebx, int ecx, int edx) {
    return new KvmCpuidEntry2(function, 0, 0, eax, ebx, ecx, edx);
  }

  private static KvmCpuidEntry2 subleaf(
      int function, int index, int eax, int ebx, int ecx, int edx) {
    return new KvmCpuidEntry2(function, index, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, eax, ebx, ecx, edx);
  }
}
