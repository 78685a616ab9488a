package dev.toykvm.kernel;

import static dev.toykvm.kvm.KvmConstants.KVM_INTERNAL_ERROR_EMULATION;

import dev.toykvm.kernel.x86.GuestCode;
import dev.toykvm.kernel.x86.GuestCpu;
import dev.toykvm.kvm.KvmSregs;
import dev.toykvm.kvm.VcpuExit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a vCPU does when libunicorn aborted translating its code (see {@link Untranslatable}): go on
 * with a new engine in the same state, stop short of each place the instruction may start ({@link
 * UntranslatableSearch}), and raise #UD at it.
 */
final class UntranslatableRecovery {
  private static final Logger log = LoggerFactory.getLogger(UntranslatableRecovery.class);

  /** What the recovery needs of its vCPU (on the vCPU's engine thread). */
  interface Vcpu extends GuestCpu {
    /** The instruction pointer now. */
    long rip();

    /** Replaces the aborted engine with a new one in the same CPU state. */
    void replaceEngine();

    /** Delivers #UD at RIP: null if delivered, else the exit (shutdown, internal error). */
    VcpuExit raiseInvalidOpcode();

    /** Drops the engine's cached translations of {@code [begin, end)}. */
    void removeTranslations(long begin, long end);

    /**
     * If the block being translated was only reached through libunicorn's real-mode retf bug
     * ({@link FarReturnRepair}), sets EIP to what the retf popped; true if it did.
     */
    boolean repairFarReturn();
  }

  /** {@link #afterStop}'s "run on". */
  static final VcpuExit CONTINUE = new VcpuExit.Intr();

  private final int id;
  private final Vcpu vcpu;
  private final UntranslatableSearch search;

  UntranslatableRecovery(int id, Vcpu vcpu) {
    this.id = id;
    this.vcpu = vcpu;
    this.search = new UntranslatableSearch(vcpu::removeTranslations);
  }

  /** The {@code until} for the next run. */
  long stopAt() {
    return search.stopAt();
  }

  /** Whether a search is going on (a normal end of the run may be its stop). */
  boolean searching() {
    return search.stopAt() != UntranslatableSearch.NO_STOP;
  }

  /**
   * After {@link dev.toykvm.kernel.unicorn.UcEngine#ABORTED}: the engine is replaced by a new one
   * in the same CPU state (the start of the block being translated; none of its instructions ran),
   * and the next run stops at the next place where the instruction at fault may start. Returns an
   * exit if there is none.
   */
  VcpuExit afterAbort() {
    vcpu.replaceEngine();
    if (vcpu.repairFarReturn()) {
      return null; // the aborting block was never the guest's: run on from the right EIP
    }
    KvmSregs s = vcpu.sregs();
    long block = GuestCode.linearRip(s, vcpu.rip());
    byte[] code = GuestCode.readUpTo(vcpu, s, block, 4096 + 2 * Untranslatable.MAX_INSN);
    if (!search.afterAbort(block, code, GuestCode.longMode(s))) {
      return new VcpuExit.InternalError(
          KVM_INTERNAL_ERROR_EMULATION,
          String.format(
              "the CPU emulator (libunicorn) aborted translating the code at linear address 0x%x"
                  + " and no far call/jmp through a register was found there",
              block));
    }
    log.debug(
        "vcpu{}: libunicorn aborted translating 0x{}; trying a stop at 0x{}",
        id,
        Long.toHexString(block),
        Long.toHexString(search.stopAt()));
    return null;
  }

  /**
   * The run ended normally during a search: at the stop, the instruction there is either the one
   * the translator cannot take (the guest gets the #UD a CPU raises, and its exit, if any, is
   * returned) or an ordinary one (the run goes on: {@link #CONTINUE}); elsewhere, a real {@code
   * hlt} (null).
   */
  VcpuExit afterStop() {
    KvmSregs s = vcpu.sregs();
    long here = GuestCode.linearRip(s, vcpu.rip());
    byte[] code = GuestCode.readUpTo(vcpu, s, here, Untranslatable.MAX_INSN + 1);
    UntranslatableSearch.AtStop found = search.atStop(here, code, GuestCode.longMode(s));
    if (found == null) {
      return null;
    }
    if (found == UntranslatableSearch.AtStop.UNTRANSLATABLE) {
      VcpuExit exit = vcpu.raiseInvalidOpcode();
      return exit != null ? exit : CONTINUE;
    }
    return CONTINUE;
  }
}
