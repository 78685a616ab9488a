package dev.toykvm.vmm;

import dev.toykvm.kvm.KvmCpuidEntry2;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Each vCPU's CPUID, made from {@code KVM_GET_SUPPORTED_CPUID} as QEMU and kvmtool make theirs:
 * leaf 1 gets the vCPU's initial APIC ID (EBX[31:24]), the number of logical CPUs (EBX[23:16], with
 * HTT) and the hypervisor bit (ECX[31]); leaf 0xb its topology (one thread per core, every vCPU a
 * core of one package, x2APIC ID = APIC ID); AMD's own view of the same package (the vendor is
 * AuthenticAMD): leaf 0x80000008 ECX NC = cores - 1 and ApicIdCoreIdSize, and with more than one
 * CPU leaf 0x80000001 ECX CmpLegacy, as QEMU sets them; and the hypervisor leaf 0x40000000 says
 * "TOYKVMTOYKVM" with EAX = 0x40000000, the highest hypervisor leaf (toykvm has no paravirtual
 * features, so no 0x40000001).
 */
final class CpuidSetup {
  private CpuidSetup() {}

  static final String SIGNATURE = "TOYKVMTOYKVM";
  static final int HYPERVISOR_LEAF = 0x4000_0000;
  private static final int HYPERVISOR_BIT = 1 << 31;
  private static final int HTT = 1 << 28;
  private static final int CMP_LEGACY = 1 << 1;

  /** The table for vCPU {@code id} (its APIC ID) of {@code cpus}. */
  static List<KvmCpuidEntry2> forVcpu(List<KvmCpuidEntry2> supported, int id, int cpus) {
    List<KvmCpuidEntry2> table = new ArrayList<>();
    int coreBits = 32 - Integer.numberOfLeadingZeros(Math.max(cpus, 1) - 1);
    for (KvmCpuidEntry2 e : supported) {
      table.add(
          switch (e.function()) {
            case 1 ->
                e.withEbx((e.ebx() & 0xffff) | (cpus & 0xff) << 16 | id << 24)
                    .withEcx(e.ecx() | HYPERVISOR_BIT)
                    .withEdx(cpus > 1 ? e.edx() | HTT : e.edx());
            case 0xb ->
                e.index() == 0
                    ? e.withEax(0).withEbx(1).withEcx(1 << 8).withEdx(id)
                    : e.index() == 1
                        ? e.withEax(coreBits).withEbx(cpus).withEcx(2 << 8 | 1).withEdx(id)
                        : e;
            case 0x8000_0001 -> cpus > 1 ? e.withEcx(e.ecx() | CMP_LEGACY) : e;
            case 0x8000_0008 ->
                e.withEcx((e.ecx() & ~0xf0ff) | coreBits << 12 | ((Math.max(cpus, 1) - 1) & 0xff));
            default -> e;
          });
    }
    ByteBuffer sig =
        ByteBuffer.wrap(SIGNATURE.getBytes(StandardCharsets.US_ASCII))
            .order(ByteOrder.LITTLE_ENDIAN);
    table.add(
        new KvmCpuidEntry2(
            HYPERVISOR_LEAF, 0, 0, HYPERVISOR_LEAF, sig.getInt(), sig.getInt(), sig.getInt()));
    return table;
  }
}
