package dev.toykvm.kvm;

/**
 * A VM fd ({@code KVM_CREATE_VM}): guest memory and vCPUs.
 *
 * <p>Closing it closes every vCPU of the VM and releases its memory slots (the VMM's mappings stay
 * the VMM's to release).
 */
public interface VmFd extends AutoCloseable {

  /**
   * {@code KVM_CHECK_EXTENSION} on the VM fd.
   *
   * @see Kvm#checkExtension(int)
   */
  int checkExtension(int capability);

  /**
   * {@code KVM_SET_USER_MEMORY_REGION}: creates, changes the flags of, or (size 0) deletes a slot.
   * Running vCPUs see the change before their next guest instruction, as in KVM.
   *
   * @throws KvmException {@code EINVAL}: slot id out of range, address or size not page-aligned,
   *     address overflow, unknown flags, a missing or too small {@code userspaceAddr}, or an
   *     attempt to move or resize an existing slot; {@code EEXIST}: the range overlaps another
   *     slot; {@code EBADF}: the VM is closed
   */
  void setUserMemoryRegion(KvmUserspaceMemoryRegion region);

  /**
   * {@code KVM_CREATE_VCPU}: a vCPU in the x86 reset state (real mode, CS:IP = F000:FFF0, CS base
   * 0xFFFF0000).
   *
   * @throws KvmException {@code EINVAL}: id negative or not below {@code KVM_CAP_MAX_VCPUS}; {@code
   *     EEXIST}: a vCPU with this id exists; {@code EBADF}: the VM is closed
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
   *     writes
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
   *     is not open; {@code EINVAL}: bad length, unknown flags, PIO with length 0
   */
  void ioeventfd(KvmIoeventfd ioeventfd);

  /** Closes the VM, its vCPUs and kernel-side resources. Idempotent. */
  @Override
  void close();
}
