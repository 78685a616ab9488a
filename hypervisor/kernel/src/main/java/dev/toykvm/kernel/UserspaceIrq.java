package dev.toykvm.kernel;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmException;
import java.util.function.BooleanSupplier;

/**
 * The userspace-irqchip path of a vCPU in a VM without {@code KVM_CREATE_IRQCHIP}: the interrupt
 * {@code KVM_INTERRUPT} queued, {@code kvm_run->request_interrupt_window}, and the {@code
 * ready_for_interrupt_injection} and {@code if_flag} fields reported at each exit.
 *
 * <p>The queue is the engine thread's (the ioctl reaches it through the mailbox); the window
 * request is set by the VMM thread between runs and the reported fields read by it after an exit,
 * hence volatile. The block hook asks {@link #wantsLook()} (two plain reads) before each
 * translation block, and only then reads RFLAGS and the shadow.
 */
final class UserspaceIrq {
  private int queued = -1; // engine thread
  private boolean windowOpen; // engine thread: why the block hook stopped
  private volatile boolean requestWindow;
  private volatile boolean ready;
  private volatile boolean ifFlag;

  /** {@code KVM_INTERRUPT} (engine thread); {@code EEXIST} while one is queued. */
  void queue(int vector) {
    if (queued >= 0) {
      throw new KvmException(
          "KVM_INTERRUPT",
          Errno.EEXIST,
          "vector "
              + queued
              + " is queued and not yet taken (RFLAGS.IF=0 or an STI/MOV SS shadow)");
    }
    queued = vector;
    ready = false;
  }

  void requestWindow(boolean request) {
    requestWindow = request;
  }

  /** Whether the block hook must look at RFLAGS.IF and the shadow (engine thread). */
  boolean wantsLook() {
    return queued >= 0 || requestWindow;
  }

  /**
   * At a block start with {@link #wantsLook()}: whether the vCPU stops there, to take the queued
   * interrupt or (none queued, the window requested) for {@code KVM_EXIT_IRQ_WINDOW_OPEN} (see
   * {@link #windowOpen()}). {@code canTake} is IF=1 and no STI/MOV SS shadow.
   */
  boolean stopsAt(boolean canTake) {
    windowOpen = canTake && queued < 0 && requestWindow;
    return canTake && (queued >= 0 || windowOpen);
  }

  /** Whether the last stop is for the window rather than the queued interrupt. */
  boolean windowOpen() {
    return windowOpen;
  }

  /** Takes the queued vector for delivery. */
  int take() {
    int v = queued;
    queued = -1;
    return v;
  }

  /**
   * Records {@code kvm_run}'s fields at an exit (engine thread) from RFLAGS and whether an STI/MOV
   * SS shadow is in effect (asked only if it matters); {@code inKernelChip} makes ready always
   * true, as KVM reports with its in-kernel PIC.
   */
  void report(long rflags, BooleanSupplier shadow, boolean inKernelChip) {
    ifFlag = (rflags & RFLAGS_IF) != 0;
    ready = inKernelChip || (ifFlag && queued < 0 && !shadow.getAsBoolean());
  }

  private static final long RFLAGS_IF = 1L << 9;

  boolean ready() {
    return ready;
  }

  boolean ifFlag() {
    return ifFlag;
  }
}
