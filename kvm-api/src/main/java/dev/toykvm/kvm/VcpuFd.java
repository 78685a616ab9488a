package dev.toykvm.kvm;

/**
 * A vCPU fd ({@code KVM_CREATE_VCPU}).
 *
 * <p>Like a vCPU fd, its ioctls are meant to be issued from one VMM thread; {@link #kick()} is the
 * exception and may be called from any thread.
 *
 * <p>Errors, as KVM's: every ioctl on a closed vCPU (or of a closed VM) is {@code EBADF}; an ioctl
 * while another thread is inside one on this vCPU is {@code EBUSY}; a {@code null} struct is {@code
 * EFAULT}; what each method says below. No other exception comes out of these methods: one would be
 * a toykvm bug, reported as {@code EIO} "internal error" and logged at ERROR.
 */
public interface VcpuFd extends AutoCloseable {

  /** The id given at creation. */
  int id();

  /**
   * {@code KVM_RUN}: runs the guest until it needs the VMM, and says why it stopped. For an {@link
   * VcpuExit.IoIn} or {@link VcpuExit.MmioRead} exit, the next call first completes that access
   * with the value the VMM set.
   *
   * <p>Guest memory (see {@link VmFd#setUserMemoryRegion}) is checked before the guest runs and
   * kept alive until this call returns. Memory registered by another thread while this call runs is
   * not: the call then returns {@link VcpuExit.Intr} (as after a signal) and the next one runs on
   * it.
   *
   * @throws KvmException {@code EBADF}: the vCPU or its VM is closed, also when closed during the
   *     call; {@code EBUSY}: another thread is in an ioctl on this vCPU; {@code EFAULT}: the memory
   *     of a slot (or, while the vCPU is stopped inside an instruction, of a slot deleted since)
   *     was freed, or belongs to a confined arena of another thread
   */
  VcpuExit run();

  /**
   * {@code KVM_GET_REGS}.
   *
   * @throws KvmException {@code EBADF}: closed; {@code EBUSY}: another thread is in an ioctl on
   *     this vCPU
   */
  KvmRegs getRegs();

  /**
   * {@code KVM_SET_REGS}. Any values are accepted, as by KVM.
   *
   * @throws KvmException {@code EFAULT}: {@code regs} is null; {@code EBUSY}: an MMIO/PIO read exit
   *     is waiting for its completing {@code run()}, or another thread is in an ioctl on this vCPU;
   *     {@code EBADF}: closed
   */
  void setRegs(KvmRegs regs);

  /**
   * {@code KVM_GET_SREGS}.
   *
   * @throws KvmException {@code EBADF}: closed; {@code EBUSY}: another thread is in an ioctl on
   *     this vCPU
   */
  KvmSregs getSregs();

  /**
   * {@code KVM_SET_SREGS}: loads segment hidden state, descriptor tables, control registers and
   * EFER, so a VMM can start a vCPU directly in real, protected or long mode.
   *
   * @throws KvmException {@code EINVAL}: a state the CPU cannot hold (e.g. long mode without
   *     paging, CR0.PG without CR0.PE, EFER.LMA not matching CR0.PG and EFER.LME), a null segment
   *     or descriptor table, or a field wider than its C struct field (selector over 16 bits, type
   *     over 4, DPL over 3, limit over 32, table limit over 16); {@code EFAULT}: {@code sregs} is
   *     null; {@code EBUSY}: an MMIO/PIO read exit is waiting for its completing {@code run()}, or
   *     another thread is in an ioctl on this vCPU; {@code EBADF}: closed
   */
  void setSregs(KvmSregs sregs);

  /**
   * {@code KVM_SET_CPUID2}: the table the guest's {@code CPUID} answers from from now on: the first
   * entry that {@link KvmCpuidEntry2#matches} the leaf and subleaf, all zeros if none does. Before
   * the first call, toykvm passes the CPU emulation's own answer through (KVM would answer from an
   * empty table).
   *
   * @throws KvmException {@code EFAULT}: {@code entries} or one of them is null; {@code E2BIG}:
   *     more than {@link KvmConstants#KVM_MAX_CPUID_ENTRIES} entries; {@code EINVAL}: a flag other
   *     than {@link KvmConstants#KVM_CPUID_FLAG_SIGNIFCANT_INDEX}, leaf 0x80000008's physical
   *     address width outside 32-63 (KVM's check), or, once the vCPU has run, a table that differs
   *     from the one it ran with (as KVM since Linux 5.16); {@code EBADF}: closed; {@code EBUSY}:
   *     another thread is in an ioctl on this vCPU
   */
  void setCpuid2(java.util.List<KvmCpuidEntry2> entries);

  /**
   * {@code KVM_GET_LAPIC}: the local APIC's register page ({@code struct kvm_lapic_state}, {@code
   * KVM_APIC_REG_SIZE} bytes, little-endian, each register at its MMIO offset).
   *
   * @throws KvmException {@code ENXIO}: the VM has no irqchip; {@code EBADF}: closed; {@code
   *     EBUSY}: another thread is in an ioctl on this vCPU
   */
  byte[] getLapic();

  /**
   * {@code KVM_SET_LAPIC}: loads the local APIC's register page (see {@link #getLapic()}).
   *
   * @throws KvmException {@code ENXIO}: the VM has no irqchip; {@code EFAULT}: {@code state} is
   *     null; {@code EINVAL}: {@code state} is not {@code KVM_APIC_REG_SIZE} bytes; {@code EBADF}:
   *     closed; {@code EBUSY}: another thread is in an ioctl on this vCPU
   */
  void setLapic(byte[] state);

  /**
   * {@code KVM_GET_MP_STATE}: {@code KVM_MP_STATE_RUNNABLE}, or {@code KVM_MP_STATE_HALTED} while
   * the vCPU waits in {@code hlt} (with an irqchip; a {@code run()} interrupted by a kick leaves it
   * halted, and the next {@code run()} goes on waiting). With an irqchip every vCPU but vCPU 0
   * starts {@code KVM_MP_STATE_UNINITIALIZED}, becomes {@code KVM_MP_STATE_INIT_RECEIVED} when an
   * INIT arrives (an INIT also sends a running vCPU there; vCPU 0 restarts at the reset vector) and
   * {@code KVM_MP_STATE_RUNNABLE} at the SIPI that follows; {@code run()} waits in the kernel side
   * while the vCPU waits for them (a kick ends the wait with {@link VcpuExit.Intr}).
   *
   * @throws KvmException {@code EBADF}: closed; {@code EBUSY}: another thread is in an ioctl on
   *     this vCPU
   */
  int getMpState();

  /**
   * {@code KVM_SET_MP_STATE}. {@code KVM_MP_STATE_RUNNABLE} always; with an irqchip also {@code
   * KVM_MP_STATE_HALTED} (the next {@code run()} waits for an interrupt, as after {@code hlt}),
   * {@code KVM_MP_STATE_UNINITIALIZED} (waits for INIT, then SIPI) and {@code
   * KVM_MP_STATE_INIT_RECEIVED} (waits for SIPI).
   *
   * @throws KvmException {@code EINVAL}: not one of the {@code KVM_MP_STATE_*} values, anything but
   *     {@code RUNNABLE} without an irqchip (as KVM), and {@code SIPI_RECEIVED}, which toykvm does
   *     not support; {@code EBADF}: closed; {@code EBUSY}: another thread is in an ioctl on this
   *     vCPU
   */
  void setMpState(int mpState);

  /**
   * {@code KVM_INTERRUPT}: queues external interrupt {@code vector} for the userspace-irqchip path
   * (a VM without {@link VmFd#createIrqchip()}, whose VMM models the PIC itself). The vCPU takes it
   * at the next instruction boundary where RFLAGS.IF is 1 and no STI or MOV SS shadow is in effect,
   * through the IVT/IDT with no error code, as a CPU takes an INTR; until then it stays queued and
   * {@link #readyForInterruptInjection()} is false. A VMM normally queues one only when that is
   * true (after {@link VcpuExit.IrqWindowOpen}).
   *
   * @throws KvmException {@code EINVAL}: {@code vector} is not 0-255; {@code ENXIO}: the VM has an
   *     in-kernel irqchip (as KVM: the PIC is in the kernel, raise lines with {@link
   *     VmFd#irqLine}); {@code EEXIST}: an interrupt is queued and not yet taken (KVM overwrites
   *     it; toykvm refuses, so that no interrupt is lost silently); {@code EBADF}: closed; {@code
   *     EBUSY}: another thread is in an ioctl on this vCPU
   */
  void interrupt(int vector);

  /**
   * Sets {@code kvm_run->request_interrupt_window} for the following {@code run()}s: when true and
   * the VM has no in-kernel irqchip, {@code run()} returns {@link VcpuExit.IrqWindowOpen} as soon
   * as the guest can take an interrupt (RFLAGS.IF=1, no STI/MOV SS shadow, none queued), before
   * running the next instruction. Ignored with an in-kernel irqchip, as by KVM. Never throws; may
   * be called from the VMM thread between {@code run()}s.
   */
  void setRequestInterruptWindow(boolean request);

  /**
   * {@code kvm_run->ready_for_interrupt_injection} as of the last exit: whether a {@link
   * #interrupt(int)} now would be taken before the next instruction (RFLAGS.IF=1, no shadow,
   * nothing queued). Always true with an in-kernel irqchip, as in KVM. Never throws.
   */
  boolean readyForInterruptInjection();

  /** {@code kvm_run->if_flag} as of the last exit: RFLAGS.IF. Never throws. */
  boolean ifFlag();

  /**
   * The vCPU's statistics ({@code KVM_GET_STATS_FD} on the vCPU fd, read once): its exits by kind,
   * and what the kernel side did for it without an exit (ioregionfd accesses, posted writes and
   * their batches, ioeventfd signals). Safe from any thread, also during {@code run()}; counts stay
   * readable after {@code close()}.
   */
  java.util.List<KvmStat> getStats();

  /**
   * Makes a {@code run()} in progress return {@link VcpuExit.Intr} as soon as possible, as a signal
   * to the vCPU thread does; if no {@code run()} is in progress, the next one returns {@code Intr}
   * at once (the kick is not lost). Safe from any thread; never throws (a no-op once closed).
   */
  void kick();

  /**
   * Closes the vCPU: a {@code run()} in progress fails with {@code EBADF}; once this returns, the
   * vCPU's engine thread has ended and its fds are closed. Idempotent; never throws.
   */
  @Override
  void close();
}
