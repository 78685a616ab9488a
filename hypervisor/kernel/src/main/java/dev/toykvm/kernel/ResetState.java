package dev.toykvm.kernel;

import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.KvmSregs;

/** The state of an x86 CPU after RESET (Intel SDM vol. 3, table 9-1), as KVM creates a vCPU. */
final class ResetState {
  private ResetState() {}

  /** CR0 after reset: CD, NW and ET set. */
  static final long CR0 = 0x6000_0010L;

  /** EDX after reset holds the processor signature; toykvm reports family 6. */
  static final long EDX = 0x600;

  static KvmSregs sregs() {
    KvmSegment cs =
        new KvmSegment(
            0xffff_0000L,
            0xffff,
            0xf000,
            KvmSegment.TYPE_CODE_XR_ACCESSED,
            true,
            0,
            false,
            true,
            false,
            false,
            false,
            false);
    KvmSegment data = KvmSegment.realMode(0, false);
    KvmSegment tr =
        new KvmSegment(0, 0xffff, 0, 0xb, true, 0, false, false, false, false, false, false);
    KvmSegment ldt =
        new KvmSegment(0, 0xffff, 0, 0x2, true, 0, false, false, false, false, false, false);
    KvmDtable table = new KvmDtable(0, 0xffff);
    return new KvmSregs(
        cs, data, data, data, data, data, tr, ldt, table, table, CR0, 0, 0, 0, 0, 0, 0xfee0_0900L);
  }

  /**
   * The state a start-up IPI gives a vCPU in the INIT state (SDM 9.4.4.1 and 11.6.1): {@code
   * current} with CS selector {@code vector << 8} and base {@code vector << 12} (real mode, limit
   * 0xffff); the caller sets IP 0.
   */
  static KvmSregs startupSregs(KvmSregs current, int vector) {
    KvmSegment cs =
        new KvmSegment(
            (long) vector << 12,
            0xffff,
            vector << 8,
            KvmSegment.TYPE_CODE_XR_ACCESSED,
            true,
            0,
            false,
            true,
            false,
            false,
            false,
            false);
    return current.withCs(cs);
  }

  static KvmRegs regs() {
    return KvmRegs.reset().withRip(0xfff0).withRdx(EDX);
  }
}
