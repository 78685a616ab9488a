package dev.toykvm.kvm;

/**
 * A vCPU fd ({@code KVM_CREATE_VCPU}).
 *
 * <p>Like a vCPU fd, its ioctls are meant to be issued from one VMM thread; {@link #kick()} is the
 * exception and may be called from any thread.
 */
public interface VcpuFd extends AutoCloseable {

  /** The id given at creation. */
  int id();

  /**
   * {@code KVM_RUN}: runs the guest until it needs the VMM, and says why it stopped. For an {@link
   * VcpuExit.IoIn} or {@link VcpuExit.MmioRead} exit, the next call first completes that access
   * with the value the VMM set.
   *
   * @throws KvmException {@code EBADF}: the vCPU or its VM is closed; {@code EBUSY}: another thread
   *     is in {@code run()} on this vCPU
   */
  VcpuExit run();

  /** {@code KVM_GET_REGS}. @throws KvmException {@code EBADF} if closed */
  KvmRegs getRegs();

  /** {@code KVM_SET_REGS}. @throws KvmException {@code EBADF} if closed */
  void setRegs(KvmRegs regs);

  /** {@code KVM_GET_SREGS}. @throws KvmException {@code EBADF} if closed */
  KvmSregs getSregs();

  /**
   * {@code KVM_SET_SREGS}: loads segment hidden state, descriptor tables, control registers and
   * EFER, so a VMM can start a vCPU directly in real, protected or long mode.
   *
   * @throws KvmException {@code EINVAL}: a state the CPU cannot hold (e.g. long mode without
   *     paging, CR0.PG without CR0.PE, EFER.LMA not matching CR0.PG and EFER.LME); {@code EBUSY}:
   *     an MMIO/PIO read exit is waiting for its completing {@code run()}; {@code EBADF}: closed
   */
  void setSregs(KvmSregs sregs);

  /**
   * Makes a {@code run()} in progress return {@link VcpuExit.Intr} as soon as possible, as a signal
   * to the vCPU thread does; if no {@code run()} is in progress, the next one returns {@code Intr}
   * at once (the kick is not lost). Safe from any thread.
   */
  void kick();

  /** Closes the vCPU. A {@code run()} in progress returns or fails with {@code EBADF}. */
  @Override
  void close();
}
