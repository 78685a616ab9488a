package dev.toykvm.kvm;

/**
 * A VM fd ({@code KVM_CREATE_VM}): guest memory and vCPUs.
 *
 * <p>Closing it closes every vCPU of the VM (their threads end) and releases its memory slots and
 * the kernel side's references to ioregion and ioeventfd fds (the VMM's mappings and fds stay the
 * VMM's to release).
 *
 * <p>Errors, as KVM's: every ioctl on a closed VM is {@code EBADF}; a {@code null} struct is {@code
 * EFAULT} (KVM's {@code copy_from_user} of a NULL pointer); what each method says below. A failed
 * call changes nothing and keeps nothing. No other exception comes out of these methods: one would
 * be a toykvm bug, reported as {@code EIO} "internal error" and logged at ERROR.
 */
public interface VmFd extends AutoCloseable {

  /**
   * {@code KVM_CHECK_EXTENSION} on the VM fd.
   *
   * @throws KvmException {@code EBADF}: the VM is closed
   * @see Kvm#checkExtension(int)
   */
  int checkExtension(int capability);

  /**
   * {@code KVM_SET_USER_MEMORY_REGION}: creates, changes the flags of, or (size 0) deletes a slot.
   * Running vCPUs see the change before their next guest instruction, as in KVM.
   *
   * <p>Guest memory is KVM's {@code userspace_addr}: a pointer the kernel side keeps (no copy). Any
   * native segment is accepted: from a shared, confined, automatic or global arena, or a mapped
   * file. What cannot be checked here is checked when a vCPU uses the memory:
   *
   * <ul>
   *   <li>memory freed while registered (its arena closed) makes {@link VcpuFd#run()} fail with
   *       {@code EFAULT}, never a crash;
   *   <li>while a {@code run()} is in progress, {@code close()} of a shared arena backing guest
   *       memory fails with {@link IllegalStateException} (the memory is in use), and an automatic
   *       arena's memory stays reachable;
   *   <li>memory of a confined arena may only be run on from its owner thread (which, being in
   *       {@code run()}, cannot close it meanwhile): {@code run()} from another thread is {@code
   *       EFAULT};
   *   <li>not guaranteed: a segment made with the restricted {@link
   *       java.lang.foreign.MemorySegment#reinterpret(long)} over an address that is not mapped, or
   *       that is unmapped behind the arena's back (as with any restricted method, the JVM may
   *       crash).
   * </ul>
   *
   * @throws KvmException {@code EINVAL}: slot id out of range, address or size not page-aligned,
   *     address overflow, unknown flags, an {@code userspaceAddr} that is NULL, not page-aligned,
   *     smaller than the size, or a heap segment ("not native memory"), or an attempt to move or
   *     resize an existing slot or change its {@code KVM_MEM_READONLY}; {@code EEXIST}: the range
   *     overlaps another slot; {@code EFAULT}: {@code region} is null, or {@code userspaceAddr}
   *     belongs to an arena that is already closed; {@code EBADF}: the VM is closed
   */
  void setUserMemoryRegion(KvmUserspaceMemoryRegion region);

  /**
   * {@code KVM_CREATE_VCPU}: a vCPU in the x86 reset state (real mode, CS:IP = F000:FFF0, CS base
   * 0xFFFF0000).
   *
   * <p>Each vCPU has an engine thread ({@code vcpuN-engine}) and two eventfds, released by {@link
   * VcpuFd#close()} or the VM's close; a failed call releases whatever it had taken.
   *
   * @throws KvmException {@code EINVAL}: id negative or not below {@code KVM_CAP_MAX_VCPUS}; {@code
   *     EEXIST}: a vCPU with this id exists; {@code EMFILE}: the process is out of file
   *     descriptors; {@code ENOMEM}: the engine or its thread cannot be made; {@code EBADF}: the VM
   *     is closed
   */
  VcpuFd createVcpu(int id);

  /**
   * {@code KVM_SET_IOREGIONFD} (RFC v3; the patches called it {@code KVM_SET_IOREGION}): assigns a
   * region whose accesses go to a device process over {@code readFd}/{@code writeFd}, or removes
   * one ({@code KVM_IOREGION_DEASSIGN}). A vCPU waiting in an access to a region being removed
   * finishes that access first.
   *
   * <p>The fds are real OS fds, as in Linux: a Java program makes the pipes with {@code
   * Fds.pipe2()} from the {@code posix} module ({@code dev.toykvm.posix}).
   *
   * @throws KvmException {@code EEXIST}: the range overlaps another ioregion or an ioeventfd on the
   *     same bus; {@code ENOENT}: deassign without a region of exactly that address and size;
   *     {@code EBADF}: an fd is not open (or the VM is closed); {@code EINVAL}: unknown flags,
   *     address overflow (an end past 2^63, or past port 0xffff for PIO), size 0 without posted
   *     writes; {@code EFAULT}: {@code region} is null
   */
  void setIoregion(KvmIoregion region);

  /**
   * {@code KVM_IOEVENTFD}: assigns or (with {@code KVM_IOEVENTFD_FLAG_DEASSIGN}) removes an
   * ioeventfd.
   *
   * <p>The fd is a real OS eventfd, as in Linux: a Java program makes it with {@code
   * Eventfd.create()} from the {@code posix} module ({@code dev.toykvm.posix}).
   *
   * @throws KvmException {@code EEXIST}: the same address, length and datamatch is registered, or
   *     the range overlaps an ioregion; {@code ENOENT}: deassign of nothing; {@code EBADF}: the fd
   *     is not open (or the VM is closed); {@code EINVAL}: the fd is not an eventfd, bad length,
   *     unknown flags, PIO with length 0, address overflow; {@code EFAULT}: {@code ioeventfd} is
   *     null
   */
  void ioeventfd(KvmIoeventfd ioeventfd);

  /**
   * {@code KVM_CREATE_IRQCHIP}: the in-kernel interrupt controllers, as on a PC: the two 8259 PICs
   * (ports 0x20/0x21, 0xa0/0xa1, ELCR 0x4d0/0x4d1), the I/O APIC (MMIO 0xfec00000) and a local APIC
   * per vCPU (MMIO 0xfee00000, xAPIC). Their registers are served in the kernel side: the VMM sees
   * no exit for them. GSIs follow KVM's default routing (see {@link #irqLine}); with the irqchip,
   * {@code hlt} waits inside {@link VcpuFd#run()} for an interrupt instead of returning {@link
   * VcpuExit.Hlt}.
   *
   * @throws KvmException {@code EEXIST}: the VM has an irqchip already; {@code EINVAL}: a vCPU
   *     exists already (as KVM, the irqchip comes first); {@code EBADF}: the VM is closed
   */
  void createIrqchip();

  /**
   * {@code KVM_CREATE_PIT2}: the in-kernel 8254 PIT (ports 0x40-0x43, and port 0x61's gate, speaker
   * and OUT2 bits), counting on the host's monotonic clock; counter 0 raises GSI 0 (an edge per
   * period). Its accesses are served in the kernel side. toykvm's PIT has no thread of its own: the
   * vCPUs raise its ticks when they look for interrupts (at block starts and in {@code hlt}), so
   * ticks while no vCPU is in {@code run()} are coalesced into one, as the PIC's IRR would. The
   * {@code struct kvm_pit_config} flags of KVM have no meaning here and are not taken.
   *
   * @throws KvmException {@code ENOENT}: the VM has no irqchip ({@link #createIrqchip()} first, as
   *     KVM requires); {@code EEXIST}: the VM has a PIT already; {@code EBADF}: the VM is closed
   */
  void createPit2();

  /**
   * {@code KVM_IRQ_LINE}: drives GSI {@code irq} to {@code level} (1 asserted, 0 not), with KVM's
   * default routing: GSIs 0-15 reach both PICs (IRQ n) and the I/O APIC, GSIs 16-23 the I/O APIC
   * only, each GSI n to I/O APIC pin n ({@code kvm_setup_default_irq_routing}; QEMU's own routing
   * table sends GSI 0 to pin 2, which a VMM sets with {@link #setGsiRouting}); after {@link
   * #setGsiRouting} the line follows that table (an MSI route sends its message when raised). Edge-
   * triggered inputs take a rising edge; level-triggered ones follow the line, so a VMM that raises
   * a line lowers it again. A GSI with no route is ignored, as in KVM. The VMM's level is one
   * source of the line among others (resampling irqfds, the PIT): the input is raised while any
   * source raises it, as KVM's irq source IDs.
   *
   * <p>May be called from any thread, also while a vCPU runs: the vCPU that can take the interrupt
   * is woken (from {@code hlt} too).
   *
   * @throws KvmException {@code ENXIO}: the VM has no irqchip; {@code EINVAL}: {@code irq} is
   *     negative; {@code EBADF}: the VM is closed
   */
  void irqLine(int irq, int level);

  /**
   * {@code KVM_IRQFD}: assigns an irqfd, an eventfd whose signals raise GSI {@code gsi} inside the
   * kernel side with no exit and no VMM thread involved, or removes one ({@code
   * KVM_IRQFD_FLAG_DEASSIGN}: every irqfd of that eventfd and GSI; none is not an error, as in
   * KVM). A per-VM kernel thread ({@code vmN-irqfd}) waits on every assigned eventfd, reads its
   * counter (so several signals before it runs are one interrupt, as in KVM) and injects through
   * the GSI's routes as they are at that moment ({@link #setGsiRouting}), waking a vCPU waiting in
   * {@code hlt}. A counter that is already non-zero at assignment is injected at once.
   *
   * <ul>
   *   <li>Without {@code KVM_IRQFD_FLAG_RESAMPLE}, each read is a pulse (the line raised and
   *       lowered), as KVM's {@code irqfd_inject}; an MSI route sends its message.
   *   <li>With {@code KVM_IRQFD_FLAG_RESAMPLE} (for level-triggered lines), the line is raised and
   *       stays raised; when the guest ends the interrupt (the I/O APIC's EOI of a level-triggered
   *       entry, or the PIC's EOI of that IRQ) the line is lowered and {@code resamplefd} is
   *       signalled, once per EOI (KVM's {@code irqfd_resampler_ack}); the VMM or device then
   *       writes {@code fd} again if it still needs service. Irqfds on one GSI share that line. On
   *       an MSI route a resampling irqfd sends its message and is never resampled (KVM accepts it
   *       and does the same).
   * </ul>
   *
   * <p>The kernel side keeps a duplicate of {@code fd} and {@code resamplefd} (KVM keeps a
   * reference to each eventfd), so the VMM may close its own; they are closed by deassign or by the
   * VM's close, which also ends the thread. Unlike KVM, closing the VMM's last copy does not
   * deassign the irqfd (KVM sees the eventfd's release as POLLHUP; the duplicate keeps it open).
   * After deassign returns, that irqfd injects nothing more, as in KVM. Eventfds are told apart by
   * the kernel's {@code eventfd-id} ({@code /proc/self/fdinfo}), so a duplicate of an assigned
   * eventfd is the same eventfd.
   *
   * @throws KvmException {@code EINVAL}: unknown flags, an assign without an irqchip ({@link
   *     #createIrqchip()} first), {@code fd} or {@code resamplefd} open but not an eventfd; {@code
   *     EBADF}: {@code fd}, or with {@code KVM_IRQFD_FLAG_RESAMPLE} {@code resamplefd}, is not open
   *     (or the VM is closed); {@code EBUSY}: the eventfd is assigned already (to any GSI); {@code
   *     EMFILE}: out of file descriptors; {@code ENOMEM}: the thread cannot be made; {@code
   *     EFAULT}: {@code irqfd} is null
   */
  void irqfd(KvmIrqfd irqfd);

  /**
   * {@code KVM_SIGNAL_MSI}: sends one MSI to the local APICs its address names, by the path the I/O
   * APIC's messages take: destination ID (address bits 19-12) read as an APIC ID or, with bit 2, a
   * logical destination; a redirection hint (bit 3) or delivery mode lowest priority picks one of
   * them; vector, delivery mode and trigger mode from the data (the level bit is taken as asserted,
   * as KVM does). Fixed, lowest-priority, NMI and INIT messages are delivered (NMI and INIT to
   * every APIC addressed, whatever the vector); SMI and ExtINT are dropped.
   *
   * @return as KVM: the number of local APICs that accepted it (&gt; 0), or 0 if none did (no APIC
   *     with that destination, or its APIC is software-disabled, or the vector is 0-15)
   * @throws KvmException {@code EINVAL}: the VM has no irqchip, or flags other than {@link
   *     KvmConstants#KVM_MSI_VALID_DEVID} ({@code devid} is ignored on x86, as in KVM); {@code
   *     EFAULT}: {@code msi} is null; {@code EBADF}: the VM is closed
   */
  int signalMsi(KvmMsi msi);

  /**
   * {@code KVM_SET_GSI_ROUTING}: replaces the whole GSI routing table, as KVM does. Until the first
   * call a VM with an irqchip has KVM's default table ({@link #irqLine}); an empty list leaves no
   * route at all. A GSI may have several irqchip routes (one per interrupt controller, so the PIC
   * master and the I/O APIC, as the default table has), or exactly one MSI route. {@link #irqLine},
   * irqfds and the PIT follow the new table from the next interrupt on; a line already raised on a
   * route that goes away stays as it was.
   *
   * @throws KvmException {@code EINVAL}: the VM has no irqchip; more than {@link
   *     KvmConstants#KVM_MAX_IRQ_ROUTES} entries; a GSI not below {@code KVM_MAX_IRQ_ROUTES}
   *     (unsigned); flags on an irqchip route, or flags other than {@code KVM_MSI_VALID_DEVID} on
   *     an MSI route; an irqchip other than the three; a pin not below 8 on a PIC or 24 on the I/O
   *     APIC; two routes of one GSI to the same irqchip, or an MSI route sharing its GSI with
   *     another route. {@code EFAULT}: the list or an entry is null; {@code EBADF}: the VM is
   *     closed. A failed call leaves the old table.
   */
  void setGsiRouting(java.util.List<KvmIrqRoutingEntry> entries);

  /**
   * {@code KVM_ENABLE_CAP} on the VM with {@code arg} as {@code args[0]} ({@code flags} 0). The
   * only capability that can be enabled is {@link KvmConstants#KVM_CAP_TOYKVM_HLT_IF0_EXIT} ({@code
   * arg} 1 enables, 0 disables).
   *
   * @throws KvmException {@code EINVAL}: another capability, an {@code arg} other than 0 or 1, or
   *     the VM has no irqchip ({@link #createIrqchip()} first); {@code EBADF}: the VM is closed
   */
  void enableCap(int capability, long arg);

  /**
   * The VM's statistics ({@code KVM_GET_STATS_FD} on the VM fd, read once): what the kernel side
   * did for the VM as a whole (irqfd injections, by the irqfd thread or by a halted vCPU). Safe
   * from any thread; counts stay readable after {@code close()}.
   */
  java.util.List<KvmStat> getStats();

  /**
   * Closes the VM, its vCPUs and kernel-side resources: once it returns, no engine thread and no fd
   * of the VM is left. Idempotent; never throws.
   */
  @Override
  void close();
}
