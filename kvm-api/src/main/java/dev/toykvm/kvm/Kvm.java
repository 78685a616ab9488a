package dev.toykvm.kvm;

import java.util.ServiceLoader;

/**
 * The system fd, {@code /dev/kvm}: the entry point of the API.
 *
 * <p>{@link #open()} finds the kernel side on the class path (the {@code hypervisor} module
 * provides it), as opening {@code /dev/kvm} finds the loaded kvm.ko.
 *
 * {@snippet :
 * try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm()) {
 *   VcpuFd vcpu = vm.createVcpu(0);
 *   VcpuExit exit = vcpu.run();
 * }
 * }
 */
public interface Kvm extends AutoCloseable {

  /**
   * Opens the kernel side ({@code open("/dev/kvm")}).
   *
   * @throws KvmException {@code ENOENT} if no implementation is on the class path, or what the
   *     implementation raises (e.g. {@code ENODEV} when libunicorn is missing)
   */
  static Kvm open() {
    return ServiceLoader.load(KvmProvider.class)
        .findFirst()
        .orElseThrow(
            () ->
                new KvmException(
                    "open /dev/kvm",
                    Errno.ENOENT,
                    "no kernel side on the class path (add the toykvm hypervisor module)"))
        .open();
  }

  /**
   * {@code KVM_GET_API_VERSION}: always {@link KvmConstants#KVM_API_VERSION}.
   *
   * @throws KvmException {@code EBADF} if this fd is closed
   */
  int getApiVersion();

  /**
   * {@code KVM_CHECK_EXTENSION}: 0 if the capability is absent (any unknown number), otherwise a
   * positive number (for counting capabilities such as {@code KVM_CAP_NR_MEMSLOTS}, the count).
   *
   * @throws KvmException {@code EBADF} if this fd is closed
   */
  int checkExtension(int capability);

  /**
   * {@code KVM_CREATE_VM}: a new, empty VM (no memory, no vCPUs).
   *
   * @throws KvmException {@code EBADF} if this fd is closed
   */
  VmFd createVm();

  /**
   * {@code KVM_GET_SUPPORTED_CPUID}: the CPUID leaves the vCPUs can give a guest, each with the
   * features the CPU emulation really implements (toykvm's table: ARCHITECTURE.md, "CPUID"). A VMM
   * adapts it (APIC IDs, topology, the hypervisor bit) and gives it to each vCPU with {@link
   * VcpuFd#setCpuid2}. A new list each call, in leaf order.
   *
   * @throws KvmException {@code EBADF} if this fd is closed
   */
  java.util.List<KvmCpuidEntry2> getSupportedCpuid();

  /**
   * Closes the system fd; VMs already created stay valid, as in Linux (each is released by its own
   * {@link VmFd#close()}). Idempotent; never throws.
   */
  @Override
  void close();

  /** How {@link #open()} finds the implementation; not for VMMs. */
  interface KvmProvider {
    Kvm open();
  }
}
