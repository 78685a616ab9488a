package dev.toykvm.kernel.x86;

import static dev.toykvm.kvm.KvmConstants.EFER_LMA;
import static dev.toykvm.kvm.KvmConstants.EFER_LME;
import static dev.toykvm.kvm.KvmConstants.X86_CR0_PE;
import static dev.toykvm.kvm.KvmConstants.X86_CR0_PG;
import static dev.toykvm.kvm.KvmConstants.X86_CR4_PAE;

import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.KvmSregs;

/**
 * The checks {@code KVM_SET_SREGS} makes before it accepts a state (Linux's {@code
 * kvm_is_valid_sregs} and the CR0 rules): returns why a state is invalid, or null.
 */
public final class SregsValidator {
  private SregsValidator() {}

  /**
   * {@code s} if KVM would accept it.
   *
   * @throws dev.toykvm.kvm.KvmException {@code EINVAL} with {@link #whyInvalid}'s reason otherwise
   */
  public static KvmSregs checked(KvmSregs s) {
    String why = whyInvalid(s);
    if (why != null) {
      throw new dev.toykvm.kvm.KvmException("KVM_SET_SREGS", dev.toykvm.kvm.Errno.EINVAL, why);
    }
    return s;
  }

  /** Physical addresses are 36 bits wide on the toykvm CPU. */
  public static final int MAXPHYADDR = 36;

  public static String whyInvalid(KvmSregs s) {
    if (s == null) {
      return "sregs is null";
    }
    if ((s.cr0() >>> 32) != 0) {
      return "CR0 bits 63:32 are reserved";
    }
    if ((s.cr0() & X86_CR0_PG) != 0 && (s.cr0() & X86_CR0_PE) == 0) {
      return "CR0.PG without CR0.PE";
    }
    boolean longMode = (s.efer() & EFER_LME) != 0 && (s.cr0() & X86_CR0_PG) != 0;
    if (longMode) {
      if ((s.cr4() & X86_CR4_PAE) == 0) {
        return "long mode (EFER.LME and CR0.PG) without CR4.PAE";
      }
      if ((s.efer() & EFER_LMA) == 0) {
        return "EFER.LME and CR0.PG without EFER.LMA";
      }
      if ((s.cr3() >>> MAXPHYADDR) != 0) {
        return "CR3 beyond the 36-bit physical address width";
      }
    } else {
      if ((s.efer() & EFER_LMA) != 0) {
        return "EFER.LMA without EFER.LME and CR0.PG";
      }
      if (s.cs().l()) {
        return "CS.L outside long mode";
      }
    }
    String[] names = {"cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt"};
    KvmSegment[] segs = {s.cs(), s.ds(), s.es(), s.fs(), s.gs(), s.ss(), s.tr(), s.ldt()};
    for (int i = 0; i < segs.length; i++) {
      String why = whyInvalid(segs[i]);
      if (why != null) {
        return names[i] + ": " + why;
      }
    }
    if (s.cs().l() && s.cs().db()) {
      return "cs: L and D/B both set";
    }
    if (s.gdt() == null || s.idt() == null) {
      return "gdt and idt are required";
    }
    if (s.gdt().limit() < 0 || s.gdt().limit() > 0xffff) {
      return "gdt limit " + s.gdt().limit() + " is not 0..0xffff";
    }
    if (s.idt().limit() < 0 || s.idt().limit() > 0xffff) {
      return "idt limit " + s.idt().limit() + " is not 0..0xffff";
    }
    return null;
  }

  private static String whyInvalid(KvmSegment seg) {
    if (seg == null) {
      return "missing";
    }
    if (seg.limit() < 0 || seg.limit() > 0xffff_ffffL) {
      return "limit 0x" + Long.toHexString(seg.limit()) + " does not fit 32 bits";
    }
    if (seg.selector() < 0 || seg.selector() > 0xffff) {
      return "selector 0x" + Integer.toHexString(seg.selector()) + " does not fit 16 bits";
    }
    if (seg.type() < 0 || seg.type() > 15) {
      return "type " + seg.type() + " is not 0..15";
    }
    if (seg.dpl() < 0 || seg.dpl() > 3) {
      return "dpl " + seg.dpl() + " is not 0..3";
    }
    return null;
  }
}
