package dev.toykvm.vmm;

import static dev.toykvm.kvm.KvmConstants.KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.kvm.KvmCpuidEntry2;
import java.util.List;
import org.junit.jupiter.api.Test;

class CpuidSetupTest {
  private static final List<KvmCpuidEntry2> SUPPORTED =
      List.of(
          new KvmCpuidEntry2(1, 0, 0, 0x663, 0x800, 0x200, 0x1),
          new KvmCpuidEntry2(0xb, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 0, 0, 0, 0),
          new KvmCpuidEntry2(0xb, 1, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 0, 0, 0, 0),
          new KvmCpuidEntry2(0x8000_0001, 0, 0, 0x663, 0, 0x21, 0x2000_0000),
          new KvmCpuidEntry2(0x8000_0008, 0, 0, 0x3024, 0, 0, 0));

  private static KvmCpuidEntry2 find(List<KvmCpuidEntry2> t, int function, int index) {
    return t.stream().filter(e -> e.matches(function, index)).findFirst().orElseThrow();
  }

  @Test
  void leafOneCarriesTheApicIdTheCpuCountAndTheHypervisorBit() {
    List<KvmCpuidEntry2> t = CpuidSetup.forVcpu(SUPPORTED, 3, 4);
    KvmCpuidEntry2 one = find(t, 1, 0);
    assertEquals(0x0304_0800, one.ebx()); // APIC ID 3, 4 logical CPUs, CLFLUSH size kept
    assertEquals(0x8000_0200, one.ecx());
    assertEquals(0x1000_0001, one.edx()); // HTT with more than one CPU
    assertEquals(0x1, CpuidSetup.forVcpu(SUPPORTED, 0, 1).get(0).edx());
  }

  @Test
  void leafElevenDescribesOneThreadPerCoreAndTheX2apicId() {
    List<KvmCpuidEntry2> t = CpuidSetup.forVcpu(SUPPORTED, 2, 3);
    assertEquals(new KvmCpuidEntry2(0xb, 0, 1, 0, 1, 0x100, 2), find(t, 0xb, 0));
    assertEquals(new KvmCpuidEntry2(0xb, 1, 1, 2, 3, 0x201, 2), find(t, 0xb, 1));
  }

  @Test
  void amdsLeavesCountTheCoresOfThePackage() {
    List<KvmCpuidEntry2> four = CpuidSetup.forVcpu(SUPPORTED, 1, 4);
    assertEquals(0x2003, find(four, 0x8000_0008, 0).ecx()); // ApicIdCoreIdSize 2, NC = 3
    assertEquals(0x3024, find(four, 0x8000_0008, 0).eax()); // the address widths kept
    assertEquals(0x23, find(four, 0x8000_0001, 0).ecx()); // CmpLegacy
    List<KvmCpuidEntry2> one = CpuidSetup.forVcpu(SUPPORTED, 0, 1);
    assertEquals(0, find(one, 0x8000_0008, 0).ecx());
    assertEquals(0x21, find(one, 0x8000_0001, 0).ecx());
    assertEquals(0x3007, find(CpuidSetup.forVcpu(SUPPORTED, 0, 8), 0x8000_0008, 0).ecx());
  }

  @Test
  void theHypervisorLeafSaysToykvm() {
    KvmCpuidEntry2 hv = find(CpuidSetup.forVcpu(SUPPORTED, 0, 1), 0x4000_0000, 0);
    assertEquals(0x4000_0000, hv.eax());
    byte[] sig = new byte[12];
    java.nio.ByteBuffer.wrap(sig)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .putInt(hv.ebx())
        .putInt(hv.ecx())
        .putInt(hv.edx());
    assertEquals("TOYKVMTOYKVM", new String(sig, java.nio.charset.StandardCharsets.US_ASCII));
  }
}
