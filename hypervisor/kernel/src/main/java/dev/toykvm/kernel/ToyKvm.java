package dev.toykvm.kernel;

import dev.toykvm.kernel.unicorn.UcEngine;
import dev.toykvm.kernel.x86.CpuState;
import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.VmFd;

/** The system fd: toykvm's {@code /dev/kvm}. */
public final class ToyKvm implements Kvm {
  private static volatile String unusable;
  private static volatile boolean probed;
  private volatile boolean closed;

  private ToyKvm() {}

  /** Opens the kernel side, checking once per JVM that libunicorn is present and as expected. */
  static ToyKvm open() {
    probe();
    if (unusable != null) {
      throw new KvmException("open /dev/kvm", Errno.ENODEV, unusable);
    }
    return new ToyKvm();
  }

  private static synchronized void probe() {
    if (probed) {
      return;
    }
    probed = true;
    String loadError = UcEngine.loadError();
    if (loadError != null) {
      unusable = loadError + "; install Debian's libunicorn2 (apt-get install libunicorn2)";
      return;
    }
    try (UcEngine probe = new UcEngine(null)) {
      CpuState.verifyLayout(probe);
    } catch (RuntimeException e) {
      unusable = e.getMessage();
    }
  }

  @Override
  public int getApiVersion() {
    checkOpen("KVM_GET_API_VERSION");
    return KvmConstants.KVM_API_VERSION;
  }

  @Override
  public int checkExtension(int capability) {
    checkOpen("KVM_CHECK_EXTENSION");
    return extension(capability);
  }

  @Override
  public java.util.List<dev.toykvm.kvm.KvmCpuidEntry2> getSupportedCpuid() {
    checkOpen("KVM_GET_SUPPORTED_CPUID");
    return SupportedCpuid.table();
  }

  static int extension(int capability) {
    return switch (capability) {
      case KvmConstants.KVM_CAP_NR_VCPUS, KvmConstants.KVM_CAP_MAX_VCPUS -> ToyVm.MAX_VCPUS;
      case KvmConstants.KVM_CAP_NR_MEMSLOTS -> MemorySlots.MAX_SLOTS;
      case KvmConstants.KVM_CAP_IRQ_ROUTING -> KvmConstants.KVM_MAX_IRQ_ROUTES;
      default -> ToyVm.capabilities().contains(capability) ? 1 : 0;
    };
  }

  @Override
  public VmFd createVm() {
    checkOpen("KVM_CREATE_VM");
    return new ToyVm();
  }

  private void checkOpen(String ioctl) {
    if (closed) {
      throw new KvmException(ioctl, Errno.EBADF, "the system fd is closed");
    }
  }

  @Override
  public void close() {
    closed = true;
  }

  /** The {@link Kvm.KvmProvider} that {@link Kvm#open()} finds. */
  public static final class Provider implements Kvm.KvmProvider {
    @Override
    public Kvm open() {
      return ToyKvm.open();
    }
  }
}
