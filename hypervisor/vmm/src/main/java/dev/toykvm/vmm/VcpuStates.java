package dev.toykvm.vmm;

import static dev.toykvm.kvm.KvmConstants.KVM_MP_STATE_HALTED;
import static dev.toykvm.kvm.KvmConstants.KVM_MP_STATE_INIT_RECEIVED;
import static dev.toykvm.kvm.KvmConstants.KVM_MP_STATE_RUNNABLE;
import static dev.toykvm.kvm.KvmConstants.KVM_MP_STATE_SIPI_RECEIVED;
import static dev.toykvm.kvm.KvmConstants.KVM_MP_STATE_UNINITIALIZED;

import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.VcpuFd;
import java.util.ArrayList;
import java.util.List;

/**
 * Where each vCPU of a VM stopped ({@code KVM_GET_MP_STATE}, {@code KVM_GET_REGS}), for the message
 * of an SMP guest that no vCPU can wake any more: which one waits for a start-up, which one sits in
 * which {@code hlt}. Call it only when no {@code run()} is in progress.
 */
final class VcpuStates {
  private static final long RFLAGS_IF = 1L << 9;

  private VcpuStates() {}

  /** E.g. "vcpu0 halted at rip=0x10b2f7 (IF=0), vcpu1 waits for SIPI". */
  static String describe(List<VcpuFd> vcpus) {
    List<String> parts = new ArrayList<>();
    for (VcpuFd v : vcpus) {
      parts.add("vcpu" + v.id() + " " + describe(v));
    }
    return String.join(", ", parts);
  }

  private static String describe(VcpuFd v) {
    try {
      int mp = v.getMpState();
      return switch (mp) {
        case KVM_MP_STATE_UNINITIALIZED -> "waits for INIT and SIPI";
        case KVM_MP_STATE_INIT_RECEIVED -> "waits for SIPI";
        case KVM_MP_STATE_SIPI_RECEIVED -> "has a SIPI to take";
        case KVM_MP_STATE_HALTED -> "halted " + where(v.getRegs());
        case KVM_MP_STATE_RUNNABLE -> "runnable " + where(v.getRegs());
        default -> "in MP state " + mp;
      };
    } catch (KvmException e) {
      return "in an unknown state (" + e.getMessage() + ")";
    }
  }

  private static String where(KvmRegs r) {
    return String.format("at rip=0x%x (IF=%d)", r.rip(), (r.rflags() & RFLAGS_IF) != 0 ? 1 : 0);
  }
}
