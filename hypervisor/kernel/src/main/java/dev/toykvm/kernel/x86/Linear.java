package dev.toykvm.kernel.x86;

import dev.toykvm.kvm.KvmSregs;

/** Linear-to-physical translation for the kernel side's own accesses. */
public final class Linear {
  private Linear() {}

  /** The guest-physical address of {@code linear}, or -1 if it is not mapped. */
  public static long toPhysical(GuestCpu cpu, KvmSregs s, long linear) {
    return PageWalker.translate(cpu, s, linear);
  }
}
