package dev.toykvm.kernel;

import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmSregs;

/** What the VMM side asks of a vCPU's engine thread, and the failure reply. */
final class Requests {
  private Requests() {}

  sealed interface Request {}

  record Init() implements Request {}

  record Run() implements Request {}

  record GetRegs() implements Request {}

  record SetRegs(KvmRegs regs) implements Request {}

  record GetSregs() implements Request {}

  record SetSregs(KvmSregs sregs) implements Request {}

  /** A reply that makes the caller throw. */
  record Failed(KvmException exception) {}

  /** A reply with no value. */
  record Done() {}
}
