package dev.toykvm.kernel;

import dev.toykvm.kernel.unicorn.Uc;
import dev.toykvm.kernel.unicorn.UcEngine;
import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmCpuidEntry2;
import dev.toykvm.kvm.KvmException;
import java.util.List;

/**
 * One vCPU's CPUID: the table {@code KVM_SET_CPUID2} gave it, answered from Unicorn's {@code
 * UC_HOOK_INSN} for {@code cpuid} (the hook sets the four registers and Unicorn skips its own
 * answer). Engine thread only.
 */
final class GuestCpuid {
  private List<KvmCpuidEntry2> table; // null until KVM_SET_CPUID2: Unicorn's own answer
  private boolean ran;

  /** The checks {@code KVM_SET_CPUID2} makes before it reaches the vCPU (any thread). */
  static List<KvmCpuidEntry2> checked(List<KvmCpuidEntry2> entries) {
    if (entries == null || entries.stream().anyMatch(java.util.Objects::isNull)) {
      throw new KvmException("KVM_SET_CPUID2", Errno.EFAULT, "the entries are or hold null");
    }
    if (entries.size() > KvmConstants.KVM_MAX_CPUID_ENTRIES) {
      throw new KvmException(
          "KVM_SET_CPUID2",
          Errno.E2BIG,
          entries.size() + " entries, more than " + KvmConstants.KVM_MAX_CPUID_ENTRIES);
    }
    for (KvmCpuidEntry2 e : entries) {
      if ((e.flags() & ~KvmConstants.KVM_CPUID_FLAG_SIGNIFCANT_INDEX) != 0) {
        throw new KvmException(
            "KVM_SET_CPUID2", Errno.EINVAL, "unknown flags 0x" + Integer.toHexString(e.flags()));
      }
    }
    KvmCpuidEntry2 widths = find(entries, 0x8000_0008, 0);
    int physBits = widths == null ? 36 : widths.eax() & 0xff;
    if (physBits < 32 || physBits > 63) {
      throw new KvmException(
          "KVM_SET_CPUID2", Errno.EINVAL, "a physical address width of " + physBits + " bits");
    }
    return List.copyOf(entries);
  }

  /** {@code KVM_RUN} was called: from now on the table may not change. */
  void ran() {
    ran = true;
  }

  /** {@code KVM_SET_CPUID2} on the engine thread (after {@link #checked}). */
  void set(List<KvmCpuidEntry2> entries) {
    if (ran && !entries.equals(table)) {
      throw new KvmException(
          "KVM_SET_CPUID2", Errno.EINVAL, "the vCPU has run with another CPUID table");
    }
    table = entries;
  }

  /**
   * The {@code cpuid} hook: answers from the table; false (Unicorn answers) before there is one.
   */
  boolean answer(UcEngine uc) {
    List<KvmCpuidEntry2> t = table;
    if (t == null) {
      return false;
    }
    int leaf = (int) uc.readReg(Uc.X86_REG_RAX);
    int subleaf = (int) uc.readReg(Uc.X86_REG_RCX);
    KvmCpuidEntry2 e = find(t, leaf, subleaf);
    uc.writeReg(Uc.X86_REG_RAX, e == null ? 0 : Integer.toUnsignedLong(e.eax()));
    uc.writeReg(Uc.X86_REG_RBX, e == null ? 0 : Integer.toUnsignedLong(e.ebx()));
    uc.writeReg(Uc.X86_REG_RCX, e == null ? 0 : Integer.toUnsignedLong(e.ecx()));
    uc.writeReg(Uc.X86_REG_RDX, e == null ? 0 : Integer.toUnsignedLong(e.edx()));
    return true;
  }

  private static KvmCpuidEntry2 find(List<KvmCpuidEntry2> entries, int leaf, int subleaf) {
    for (KvmCpuidEntry2 e : entries) {
      if (e.matches(leaf, subleaf)) {
        return e;
      }
    }
    return null;
  }
}
