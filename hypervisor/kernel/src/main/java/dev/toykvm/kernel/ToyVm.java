package dev.toykvm.kernel;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmIrqRoutingEntry;
import dev.toykvm.kvm.KvmIrqfd;
import dev.toykvm.kvm.KvmMsi;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** A VM fd: memory slots and vCPUs. */
final class ToyVm implements VmFd {
  /** {@code KVM_CAP_MAX_VCPUS}. */
  static final int MAX_VCPUS = 8;

  private final MemorySlots slots = new MemorySlots();
  private final KernelIo io = new KernelIo();
  private final Map<Integer, ToyVcpu> vcpus = new ConcurrentHashMap<>();
  private volatile boolean closed;
  private volatile Irqchip irqchip;
  private Irqfds irqfds; // under this: made at the first KVM_IRQFD assign
  private final GuestTurn turn = new GuestTurn();
  private final VmStats stats = new VmStats();

  @Override
  public java.util.List<dev.toykvm.kvm.KvmStat> getStats() {
    return stats.snapshot();
  }

  @Override
  public int checkExtension(int capability) {
    checkOpen("KVM_CHECK_EXTENSION");
    return ToyKvm.extension(capability);
  }

  @Override
  public void setUserMemoryRegion(KvmUserspaceMemoryRegion region) {
    checkOpen(MemorySlots.IOCTL);
    guarded(MemorySlots.IOCTL, () -> slots.set(region));
    for (ToyVcpu vcpu : vcpus.values()) {
      vcpu.memoryChanged(); // a running vCPU remaps at its next block start
    }
  }

  @Override
  public synchronized VcpuFd createVcpu(int id) {
    checkOpen("KVM_CREATE_VCPU");
    if (id < 0 || id >= MAX_VCPUS) {
      throw new KvmException(
          "KVM_CREATE_VCPU", Errno.EINVAL, "vcpu id " + id + " is not in 0.." + (MAX_VCPUS - 1));
    }
    if (vcpus.containsKey(id)) {
      throw new KvmException("KVM_CREATE_VCPU", Errno.EEXIST, "vcpu " + id + " exists");
    }
    ToyVcpu vcpu;
    try {
      Irqchip chip = irqchip;
      VcpuIrq irq = chip == null ? null : chip.attach(id);
      try {
        vcpu = new ToyVcpu(this, id, slots, io, irq, turn.hold());
      } catch (RuntimeException e) {
        if (chip != null) {
          chip.detach(id);
        }
        throw e;
      }
    } catch (KvmException e) {
      throw e;
    } catch (RuntimeException e) {
      throw KernelBug.report("KVM_CREATE_VCPU", e);
    }
    vcpus.put(id, vcpu);
    return vcpu;
  }

  @Override
  public void setIoregion(dev.toykvm.kvm.KvmIoregion region) {
    checkOpen(KernelIo.SET_IOREGION);
    guarded(KernelIo.SET_IOREGION, () -> io.setIoregion(region));
  }

  @Override
  public void ioeventfd(dev.toykvm.kvm.KvmIoeventfd ioeventfd) {
    checkOpen(KernelIo.IOEVENTFD);
    guarded(KernelIo.IOEVENTFD, () -> io.ioeventfd(ioeventfd));
  }

  @Override
  public synchronized void createIrqchip() {
    checkOpen("KVM_CREATE_IRQCHIP");
    if (irqchip != null) {
      throw new KvmException("KVM_CREATE_IRQCHIP", Errno.EEXIST, "the VM has an irqchip");
    }
    if (!vcpus.isEmpty()) {
      throw new KvmException(
          "KVM_CREATE_IRQCHIP", Errno.EINVAL, "vCPUs exist: create the irqchip before them");
    }
    irqchip = new Irqchip();
  }

  @Override
  public synchronized void createPit2() {
    checkOpen("KVM_CREATE_PIT2");
    Irqchip chip = irqchip;
    if (chip == null) {
      throw new KvmException(
          "KVM_CREATE_PIT2", Errno.ENOENT, "the VM has no irqchip (KVM_CREATE_IRQCHIP first)");
    }
    if (!chip.createPit()) {
      throw new KvmException("KVM_CREATE_PIT2", Errno.EEXIST, "the VM has a PIT");
    }
  }

  @Override
  public void irqLine(int irq, int level) {
    checkOpen("KVM_IRQ_LINE");
    Irqchip chip = irqchip;
    if (chip == null) {
      throw new KvmException("KVM_IRQ_LINE", Errno.ENXIO, "the VM has no irqchip");
    }
    if (irq < 0) {
      throw new KvmException("KVM_IRQ_LINE", Errno.EINVAL, "irq " + irq + " is negative");
    }
    guarded("KVM_IRQ_LINE", () -> chip.setIrq(irq, level != 0));
  }

  @Override
  public void irqfd(KvmIrqfd irqfd) {
    checkOpen(Irqfds.IOCTL);
    if (irqfd == null) {
      throw new KvmException(Irqfds.IOCTL, Errno.EFAULT, "irqfd is null");
    }
    int known = KvmConstants.KVM_IRQFD_FLAG_DEASSIGN | KvmConstants.KVM_IRQFD_FLAG_RESAMPLE;
    if ((irqfd.flags() & ~known) != 0) {
      throw new KvmException(
          Irqfds.IOCTL,
          Errno.EINVAL,
          "unknown flags 0x" + Integer.toHexString(irqfd.flags() & ~known));
    }
    guarded(
        Irqfds.IOCTL,
        () -> {
          if ((irqfd.flags() & KvmConstants.KVM_IRQFD_FLAG_DEASSIGN) != 0) {
            Irqfds.checkEventfd("fd", irqfd.fd());
            Irqfds set = irqfdsIfAny();
            if (set != null) {
              set.deassign(irqfd);
            }
            return;
          }
          if (irqchip == null) {
            throw new KvmException(
                Irqfds.IOCTL, Errno.EINVAL, "the VM has no irqchip (KVM_CREATE_IRQCHIP first)");
          }
          irqfds().assign(irqfd);
        });
  }

  private synchronized Irqfds irqfdsIfAny() {
    return irqfds;
  }

  private synchronized Irqfds irqfds() {
    checkOpen(Irqfds.IOCTL);
    if (irqfds == null) {
      irqfds = Irqfds.start(irqchip.routing(), stats);
    }
    return irqfds;
  }

  @Override
  public int signalMsi(KvmMsi msi) {
    checkOpen("KVM_SIGNAL_MSI");
    if (msi == null) {
      throw new KvmException("KVM_SIGNAL_MSI", Errno.EFAULT, "msi is null");
    }
    Irqchip chip = irqchip;
    if (chip == null) {
      throw new KvmException("KVM_SIGNAL_MSI", Errno.EINVAL, "the VM has no irqchip");
    }
    if ((msi.flags() & ~KvmConstants.KVM_MSI_VALID_DEVID) != 0) {
      throw new KvmException(
          "KVM_SIGNAL_MSI", Errno.EINVAL, "unknown flags 0x" + Integer.toHexString(msi.flags()));
    }
    int[] accepted = new int[1];
    guarded(
        "KVM_SIGNAL_MSI", () -> accepted[0] = chip.routing().sendMsi(msi.addressLo(), msi.data()));
    return accepted[0];
  }

  @Override
  public void setGsiRouting(List<KvmIrqRoutingEntry> entries) {
    checkOpen(IrqRoutingTable.IOCTL);
    Irqchip chip = irqchip;
    if (chip == null) {
      throw new KvmException(IrqRoutingTable.IOCTL, Errno.EINVAL, "the VM has no irqchip");
    }
    guarded(IrqRoutingTable.IOCTL, () -> chip.routing().setRouting(entries));
  }

  boolean isClosed() {
    return closed;
  }

  void forget(ToyVcpu vcpu) {
    vcpus.remove(vcpu.id(), vcpu);
  }

  /** Runs an ioctl's body; a Java exception that escapes its checks is a bug (see KernelBug). */
  private static void guarded(String ioctl, Runnable body) {
    try {
      body.run();
    } catch (KvmException e) {
      throw e;
    } catch (RuntimeException e) {
      throw KernelBug.report(ioctl, e);
    }
  }

  private void checkOpen(String ioctl) {
    if (closed) {
      throw new KvmException(ioctl, Errno.EBADF, "the VM is closed");
    }
  }

  @Override
  public void enableCap(int capability, long arg) {
    checkOpen("KVM_ENABLE_CAP");
    if (capability != KvmConstants.KVM_CAP_TOYKVM_HLT_IF0_EXIT) {
      throw new KvmException(
          "KVM_ENABLE_CAP", Errno.EINVAL, "capability " + capability + " cannot be enabled");
    }
    if (arg != 0 && arg != 1) {
      throw new KvmException("KVM_ENABLE_CAP", Errno.EINVAL, "args[0] " + arg + " is not 0 or 1");
    }
    Irqchip chip = irqchip;
    if (chip == null) {
      throw new KvmException(
          "KVM_ENABLE_CAP", Errno.EINVAL, "the VM has no irqchip (KVM_CREATE_IRQCHIP first)");
    }
    chip.setHltIf0Exit(arg == 1);
  }

  /**
   * Closes every vCPU (ending its thread), releases every ioregion and ioeventfd, and every irqfd
   * (ending the irqfd thread).
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (ToyVcpu vcpu : new ArrayList<>(vcpus.values())) {
      vcpu.close();
    }
    io.close();
    if (irqfds != null) {
      irqfds.close();
    }
  }

  static List<Integer> capabilities() {
    return List.of(
        KvmConstants.KVM_CAP_HLT,
        KvmConstants.KVM_CAP_IRQCHIP,
        KvmConstants.KVM_CAP_MP_STATE,
        KvmConstants.KVM_CAP_PIT2,
        KvmConstants.KVM_CAP_USER_MEMORY,
        KvmConstants.KVM_CAP_NR_VCPUS,
        KvmConstants.KVM_CAP_MAX_VCPUS,
        KvmConstants.KVM_CAP_NR_MEMSLOTS,
        KvmConstants.KVM_CAP_READONLY_MEM,
        KvmConstants.KVM_CAP_IMMEDIATE_EXIT,
        KvmConstants.KVM_CAP_IOEVENTFD,
        KvmConstants.KVM_CAP_IRQFD,
        KvmConstants.KVM_CAP_IRQFD_RESAMPLE,
        KvmConstants.KVM_CAP_SIGNAL_MSI,
        KvmConstants.KVM_CAP_IRQ_ROUTING,
        KvmConstants.KVM_CAP_IOREGIONFD,
        KvmConstants.KVM_CAP_TOYKVM_HLT_IF0_EXIT);
  }
}
