package dev.toykvm.kernel;

import static dev.toykvm.kvm.KvmConstants.KVM_MP_STATE_HALTED;
import static dev.toykvm.kvm.KvmConstants.KVM_MP_STATE_INIT_RECEIVED;
import static dev.toykvm.kvm.KvmConstants.KVM_MP_STATE_RUNNABLE;
import static dev.toykvm.kvm.KvmConstants.KVM_MP_STATE_UNINITIALIZED;

import dev.toykvm.kvm.VcpuExit;

/**
 * One vCPU's multiprocessor state ({@code KVM_GET/SET_MP_STATE}) and the events that change it, as
 * KVM's kvm_apic_accept_events and kvm_vcpu_block: {@code hlt} waits ({@code HALTED}), an
 * application processor waits for INIT and SIPI ({@code UNINITIALIZED}, then {@code
 * INIT_RECEIVED}), an INIT resets a running vCPU to the INIT state, and NMIs are delivered through
 * vector 2 and blocked until the next IRET.
 *
 * <p>With an in-kernel irqchip, vCPU 0 (the BSP) starts {@code RUNNABLE} and every other vCPU
 * {@code UNINITIALIZED}, as in KVM; without one every vCPU is {@code RUNNABLE}. Engine thread only.
 */
final class VcpuMp {
  /** NMI's vector. */
  static final int NMI = 2;

  /** What the state machine needs from the engine. */
  interface Cpu {
    /** A kick is raised or the vCPU is closing: a wait ends with {@code Intr}. */
    boolean stopWaiting();

    /** Consumes the kick (the wait returns {@code Intr}). */
    void consumeKick();

    /** RFLAGS.IF. */
    boolean interruptsEnabled();

    /** No NMI is in service (QEMU's NMI mask) and no STI/MOV SS shadow. */
    boolean nmiAllowed();

    /**
     * Delivers an external interrupt or NMI; null if delivered, else the exit (triple fault...).
     */
    VcpuExit deliverExternal(int vector);

    /** Blocks NMIs until the next IRET. */
    void blockNmis();

    /** The INIT state: registers and segments as after RESET, NMI blocking cleared. */
    void enterInitState();

    /** A SIPI: CS selector {@code vector << 8}, base {@code vector << 12}, IP 0, real mode. */
    void startAt(int vector);
  }

  private final int id;
  private final VcpuIrq irq; // null without an irqchip
  private final Cpu cpu;
  private int state;

  VcpuMp(int id, VcpuIrq irq, Cpu cpu) {
    this.id = id;
    this.irq = irq;
    this.cpu = cpu;
    this.state = irq != null && id != 0 ? KVM_MP_STATE_UNINITIALIZED : KVM_MP_STATE_RUNNABLE;
    if (irq != null) {
      irq.expectSipi(state != KVM_MP_STATE_RUNNABLE);
    }
  }

  int state() {
    return state;
  }

  /** {@code KVM_SET_MP_STATE} (the fd has checked the value). */
  void set(int mpState) {
    state = mpState;
    if (irq != null) {
      irq.haltedIf0(false);
      irq.expectSipi(
          mpState == KVM_MP_STATE_UNINITIALIZED || mpState == KVM_MP_STATE_INIT_RECEIVED);
    }
  }

  /**
   * Before guest code runs: processes a pending INIT and waits while the vCPU is halted or waits
   * for SIPI. Returns null when the vCPU is runnable, or the exit that ends this {@code run()}.
   */
  VcpuExit untilRunnable() {
    if (irq == null) {
      return null;
    }
    while (true) {
      if (irq.initPending()) {
        enterInit();
      }
      switch (state) {
        case KVM_MP_STATE_HALTED -> {
          VcpuExit exit = waitInHalt();
          if (exit != null || !irq.initPending()) {
            return exit;
          }
        }
        case KVM_MP_STATE_UNINITIALIZED, KVM_MP_STATE_INIT_RECEIVED -> {
          VcpuExit exit = awaitStartup();
          if (exit != null) {
            return exit;
          }
        }
        default -> {
          return null;
        }
      }
    }
  }

  /**
   * {@code hlt} with IF=0 under {@code KVM_CAP_TOYKVM_HLT_IF0_EXIT}: reported as {@code Hlt} at
   * once; the vCPU is halted, so the next {@code run()} waits as KVM would.
   */
  VcpuExit haltReported() {
    state = KVM_MP_STATE_HALTED;
    return new VcpuExit.Hlt();
  }

  /**
   * A {@code hlt} with an irqchip: waits ({@link #halt}), or with IF=0 under {@code
   * KVM_CAP_TOYKVM_HLT_IF0_EXIT} is reported ({@link #haltReported}) if no other vCPU could still
   * wake it: every vCPU is in such a {@code hlt} or waits for a SIPI ({@link
   * Irqchip#everyVcpuParked}). Otherwise it waits too, for the NMI or INIT another vCPU may send
   * (memtest86+'s barriers park CPUs that way and wake them with NMIs).
   */
  VcpuExit hlt(boolean interruptsEnabled) {
    if (!irq.chip().hltIf0Exit() || interruptsEnabled) {
      return halt();
    }
    irq.haltedIf0(true);
    return irq.chip().everyVcpuParked() ? haltReported() : halt();
  }

  /** {@code hlt} with an irqchip: see {@link #waitInHalt}. */
  VcpuExit halt() {
    state = KVM_MP_STATE_HALTED;
    return untilRunnable();
  }

  /**
   * The wait of a halted vCPU (KVM's kvm_vcpu_block): an interrupt that can be taken is delivered
   * (RUNNABLE); an INIT or NMI makes it RUNNABLE, and the caller's next look takes it; a kick is
   * {@code Intr} and leaves it halted.
   */
  private VcpuExit waitInHalt() {
    int vector;
    try {
      vector = irq.halt(cpu::stopWaiting, cpu::interruptsEnabled, cpu::nmiAllowed);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      vector = -1;
    }
    if (vector == -1) {
      cpu.consumeKick();
      return new VcpuExit.Intr();
    }
    state = KVM_MP_STATE_RUNNABLE;
    irq.haltedIf0(false);
    if (vector == VcpuIrq.EVENT) {
      return null;
    }
    return cpu.deliverExternal(vector);
  }

  private VcpuExit awaitStartup() {
    int vector;
    try {
      vector = irq.awaitStartup(cpu::stopWaiting, state == KVM_MP_STATE_INIT_RECEIVED);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      vector = -1;
    }
    if (vector == -1) {
      cpu.consumeKick();
      return new VcpuExit.Intr();
    }
    if (vector != VcpuIrq.EVENT) {
      cpu.startAt(vector);
      irq.expectSipi(false);
      state = KVM_MP_STATE_RUNNABLE;
    }
    return null;
  }

  /** INIT: the BSP restarts at the reset vector, an AP waits for SIPI (as KVM). */
  private void enterInit() {
    irq.haltedIf0(false);
    irq.takeInit();
    cpu.enterInitState();
    state = id == 0 ? KVM_MP_STATE_RUNNABLE : KVM_MP_STATE_INIT_RECEIVED;
    irq.expectSipi(state == KVM_MP_STATE_INIT_RECEIVED);
  }

  /**
   * At a block start, once {@code irq.needsCheck}: whether the engine must stop for an INIT, an NMI
   * it can take, or an external interrupt it can take ({@code canTakeInterrupt}: IF and no shadow).
   */
  boolean mustStop(java.util.function.BooleanSupplier canTakeInterrupt) {
    if (irq.initPending()) {
      return true;
    }
    if (irq.nmiPending() && cpu.nmiAllowed()) {
      return true;
    }
    return irq.deliverable(canTakeInterrupt);
  }

  /**
   * After such a stop: delivers the NMI or the interrupt (an INIT is left to {@link
   * #untilRunnable}). Returns null to run on, or the exit.
   */
  VcpuExit take() {
    if (irq.initPending()) {
      return null;
    }
    if (irq.nmiPending() && cpu.nmiAllowed()) {
      irq.takeNmi();
      VcpuExit exit = cpu.deliverExternal(NMI);
      if (exit == null) {
        cpu.blockNmis();
      }
      return exit;
    }
    int vector = irq.acknowledge();
    return vector < 0 ? null : cpu.deliverExternal(vector);
  }
}
