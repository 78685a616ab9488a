package dev.toykvm.kernel.x86;

import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmSregs;

/** The vCPU state and guest-physical memory, as exception delivery needs them. */
public interface GuestCpu {
  KvmRegs regs();

  void setRegs(KvmRegs regs);

  KvmSregs sregs();

  void setSregs(KvmSregs sregs);

  /** Reads guest-physical memory; null if any byte of it is not backed by RAM. */
  byte[] readPhysical(long address, int length);

  /** Writes guest-physical memory; false if any byte of it is not backed by writable RAM. */
  boolean writePhysical(long address, byte[] bytes);
}
