package dev.toykvm.kernel;

import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmSregs;
import java.lang.foreign.MemorySegment;
import java.util.Set;

/** What the VMM side asks of a vCPU's engine thread, and the failure reply. */
final class Requests {
  private Requests() {}

  sealed interface Request {}

  record Init() implements Request {}

  /**
   * {@code KVM_RUN}; {@code held} are the scopes of the guest memory that the caller keeps alive
   * for this run (see {@link MemoryHold}): the engine may run the guest on no other memory.
   */
  record Run(Set<MemorySegment.Scope> held) implements Request {}

  record GetRegs() implements Request {}

  record SetRegs(KvmRegs regs) implements Request {}

  record GetSregs() implements Request {}

  record SetSregs(KvmSregs sregs) implements Request {}

  record GetLapic() implements Request {}

  record SetLapic(byte[] state) implements Request {}

  record GetMpState() implements Request {}

  /** {@code KVM_SET_CPUID2}, checked by the caller ({@link GuestCpuid#checked}). */
  record SetCpuid(java.util.List<dev.toykvm.kvm.KvmCpuidEntry2> entries) implements Request {}

  /** {@code KVM_INTERRUPT}, checked by the caller (vector 0-255, no in-kernel irqchip). */
  record Interrupt(int vector) implements Request {}

  record SetMpState(int mpState) implements Request {}

  /** A reply that makes the caller throw. */
  record Failed(KvmException exception) {}

  /** A reply with no value. */
  record Done() {}
}
