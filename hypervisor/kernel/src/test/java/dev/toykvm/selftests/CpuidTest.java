package dev.toykvm.selftests;

import static dev.toykvm.kvm.KvmConstants.KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmCpuidEntry2;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.VcpuExit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code KVM_GET_SUPPORTED_CPUID}, {@code KVM_SET_CPUID2} and the guest's {@code cpuid}. */
@Timeout(30)
class CpuidTest {
  private static final KvmCpuidEntry2 HV =
      new KvmCpuidEntry2(0x4000_0000, 0, 0, 0x4000_0000, 0x4b594f54, 0x544b4d56, 0x4d56594f);

  /** cpuid with EAX = leaf, ECX = subleaf, then out 0x80/0x81/0x82/0x83 of EAX, EBX, ECX, EDX. */
  private static void cpuidGuest(TestVm t, int leaf, int subleaf) {
    t.load(
        0x10000,
        0xb8,
        leaf & 0xff,
        leaf >>> 8 & 0xff,
        leaf >>> 16 & 0xff,
        leaf >>> 24, // mov eax, leaf
        0xb9,
        subleaf,
        0,
        0,
        0, //                                               mov ecx, subleaf
        0x0f,
        0xa2, //                                                           cpuid
        0xe7,
        0x80, //                                                           out 0x80, eax
        0x89,
        0xd8,
        0xe7,
        0x81, //                                   mov eax, ebx; out 0x81, eax
        0x89,
        0xc8,
        0xe7,
        0x82, //                                   mov eax, ecx; out 0x82, eax
        0x89,
        0xd0,
        0xe7,
        0x83, //                                   mov eax, edx; out 0x83, eax
        0xf4); //                                                                hlt
    t.longMode(0x10000);
  }

  private static int[] runCpuid(TestVm t) {
    int[] r = new int[4];
    for (int i = 0; i < 4; i++) {
      VcpuExit.IoOut out = assertInstanceOf(VcpuExit.IoOut.class, t.vcpu.run());
      assertEquals(0x80 + i, out.port());
      r[i] = (int) out.data();
    }
    assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
    return r;
  }

  private static KvmCpuidEntry2 leaf(List<KvmCpuidEntry2> table, int function) {
    return table.stream().filter(e -> e.function() == function).findFirst().orElseThrow();
  }

  @Test
  void theSupportedTableHasTheX8664Baseline() {
    try (TestVm t = new TestVm()) {
      List<KvmCpuidEntry2> s = t.kvm.getSupportedCpuid();
      // FPU PSE TSC MSR PAE CX8 APIC PGE CMOV MMX FXSR SSE SSE2 (what verify_cpu wants, and more)
      int baseline = 1 | 1 << 3 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 8 | 1 << 9 | 1 << 13 | 1 << 15;
      baseline |= 1 << 23 | 1 << 24 | 1 << 25 | 1 << 26;
      assertEquals(baseline, leaf(s, 1).edx() & baseline);
      assertEquals(1 << 29, leaf(s, 0x8000_0001).edx() & (1 << 29)); // LM
      assertEquals(0, leaf(s, 0x8000_0001).edx() & (1 << 20 | 1 << 11)); // no NX, no SYSCALL
      assertEquals(0x6874_7541, leaf(s, 0).ebx()); // "Auth"
    }
  }

  @Test
  void withoutATableTheEmulatorAnswers() {
    try (TestVm t = new TestVm()) {
      cpuidGuest(t, 0, 0);
      assertEquals(0x6874_7541, runCpuid(t)[1]);
    }
  }

  @Test
  void theGuestSeesTheTableTheVmmSet() {
    try (TestVm t = new TestVm()) {
      List<KvmCpuidEntry2> table = new ArrayList<>(t.kvm.getSupportedCpuid());
      table.add(HV);
      t.vcpu.setCpuid2(table);
      cpuidGuest(t, 0x4000_0000, 0);
      assertEquals(List.of(0x4000_0000, 0x4b594f54, 0x544b4d56, 0x4d56594f), asList(runCpuid(t)));
    }
  }

  @Test
  void aLeafNotInTheTableIsZerosAndSubleavesMatchWhenSignificant() {
    try (TestVm t = new TestVm()) {
      t.vcpu.setCpuid2(
          List.of(
              new KvmCpuidEntry2(7, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 1, 2, 3, 4),
              new KvmCpuidEntry2(7, 1, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 5, 6, 7, 8)));
      cpuidGuest(t, 7, 1);
      assertEquals(List.of(5, 6, 7, 8), asList(runCpuid(t)));
    }
    try (TestVm t = new TestVm()) {
      t.vcpu.setCpuid2(List.of(HV));
      cpuidGuest(t, 1, 0);
      assertEquals(List.of(0, 0, 0, 0), asList(runCpuid(t)));
    }
  }

  @Test
  void errnosAsKvm() {
    try (TestVm t = new TestVm()) {
      assertErrno(Errno.EFAULT, () -> t.vcpu.setCpuid2(null));
      assertErrno(Errno.E2BIG, () -> t.vcpu.setCpuid2(Collections.nCopies(257, HV)));
      assertErrno(Errno.EINVAL, () -> t.vcpu.setCpuid2(List.of(HV.withFlags(2))));
      KvmCpuidEntry2 widths = new KvmCpuidEntry2(0x8000_0008, 0, 0, 0x3050, 0, 0, 0);
      assertErrno(Errno.EINVAL, () -> t.vcpu.setCpuid2(List.of(widths)));
      t.vcpu.setCpuid2(List.of(HV));
      cpuidGuest(t, 0x4000_0000, 0);
      runCpuid(t);
      t.vcpu.setCpuid2(List.of(HV)); // the same table after KVM_RUN: accepted
      assertErrno(Errno.EINVAL, () -> t.vcpu.setCpuid2(List.of(HV.withEax(1))));
    }
  }

  /** Each baseline feature the table claims runs: no #UD (which would end in a Hlt-less exit). */
  @Test
  void theClaimedBaselineInstructionsRun() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x10000, //
          0x0f, 0x31, //                                    rdtsc                   (TSC)
          0xb9, 0x80, 0, 0, 0xc0, 0x0f, 0x32, //            mov ecx, EFER; rdmsr    (MSR)
          0xd9, 0xe8, //                                    fld1                    (FPU)
          0x0f, 0xae, 0x04, 0x25, 0, 0x50, 0, 0, //         fxsave [0x5000]         (FXSR)
          0x0f, 0xef, 0xc0, //                              pxor mm0, mm0           (MMX)
          0x0f, 0x58, 0xc0, //                              addps xmm0, xmm0        (SSE)
          0x66, 0x0f, 0xd4, 0xc0, //                        paddq xmm0, xmm0        (SSE2)
          0x0f, 0x44, 0xc1, //                              cmove eax, ecx          (CMOV)
          0x0f, 0xc7, 0x0c, 0x25, 0, 0x60, 0, 0, //         cmpxchg8b [0x6000]      (CX8)
          0x0f, 0xae, 0x3c, 0x25, 0, 0x60, 0, 0, //         clflush [0x6000]        (CLFLUSH)
          0xe6, 0x90, //                                    out 0x90, al
          0xf4); //                                         hlt
      t.longMode(0x10000);
      var s = t.vcpu.getSregs();
      t.vcpu.setSregs(s.withCr4(s.cr4() | 1 << 9 | 1 << 10)); // OSFXSR, OSXMMEXCPT
      assertEquals(0x90, assertInstanceOf(VcpuExit.IoOut.class, t.vcpu.run()).port());
    }
  }

  private static List<Integer> asList(int[] r) {
    return List.of(r[0], r[1], r[2], r[3]);
  }

  private static void assertErrno(Errno errno, Runnable call) {
    assertEquals(errno, assertThrows(KvmException.class, call::run).errno());
  }
}
