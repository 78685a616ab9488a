package dev.toykvm.kernel;

import static dev.toykvm.kvm.KvmConstants.KVM_IOEVENTFD_FLAG_DATAMATCH;
import static dev.toykvm.kvm.KvmConstants.KVM_IOEVENTFD_FLAG_DEASSIGN;
import static dev.toykvm.kvm.KvmConstants.KVM_IOEVENTFD_FLAG_PIO;
import static dev.toykvm.kvm.KvmConstants.KVM_IOREGION_DEASSIGN;
import static dev.toykvm.kvm.KvmConstants.KVM_IOREGION_PIO;
import static dev.toykvm.kvm.KvmConstants.KVM_IOREGION_POSTED_WRITES;

import dev.toykvm.ioregionfd.channel.FdContext;
import dev.toykvm.ioregionfd.posix.Posix;
import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmIoeventfd;
import dev.toykvm.kvm.KvmIoregion;
import java.util.HashMap;
import java.util.Map;

/**
 * A VM's kernel-side I/O: the PIO and MMIO buses with their ioregions and ioeventfds, and the
 * registration rules of {@code KVM_SET_IOREGIONFD} (RFC v3) and {@code KVM_IOEVENTFD}.
 */
final class KernelIo {
  static final String SET_IOREGION = "KVM_SET_IOREGIONFD";
  static final String IOEVENTFD = "KVM_IOEVENTFD";

  /** Port numbers are 16 bits. */
  private static final long PIO_LIMIT = 0x10000;

  final KernelIoBus pio = new KernelIoBus("pio");
  final KernelIoBus mmio = new KernelIoBus("mmio");
  private final Map<Integer, FdContext> contexts = new HashMap<>();

  synchronized void setIoregion(KvmIoregion r) {
    if (r == null) {
      throw new KvmException(SET_IOREGION, Errno.EFAULT, "region is null");
    }
    int known = KVM_IOREGION_PIO | KVM_IOREGION_POSTED_WRITES | KVM_IOREGION_DEASSIGN;
    if ((r.flags() & ~known) != 0) {
      throw new KvmException(
          SET_IOREGION, Errno.EINVAL, "unknown flags 0x" + Integer.toHexString(r.flags() & ~known));
    }
    boolean isPio = (r.flags() & KVM_IOREGION_PIO) != 0;
    KernelIoBus bus = isPio ? pio : mmio;
    if ((r.flags() & KVM_IOREGION_DEASSIGN) != 0) {
      bus.removeRegion(SET_IOREGION, r.guestPaddr(), r.memorySize());
      return;
    }
    boolean posted = (r.flags() & KVM_IOREGION_POSTED_WRITES) != 0;
    if (r.memorySize() == 0 && !posted) {
      throw new KvmException(
          SET_IOREGION, Errno.EINVAL, "a zero-size region needs KVM_IOREGION_POSTED_WRITES");
    }
    long end = r.guestPaddr() + r.memorySize();
    if (Long.compareUnsigned(end, r.guestPaddr()) < 0
        || (isPio && Long.compareUnsigned(Math.max(end, r.guestPaddr() + 1), PIO_LIMIT) > 0)) {
      throw new KvmException(
          SET_IOREGION,
          Errno.EINVAL,
          String.format(
              "[0x%x, +0x%x) overflows the %s address space",
              r.guestPaddr(), r.memorySize(), isPio ? "16-bit port" : "64-bit"));
    }
    checkFd(SET_IOREGION, "write_fd", r.writeFd());
    if (r.memorySize() != 0) {
      checkFd(SET_IOREGION, "read_fd", r.readFd());
    }
    FdContext context =
        r.memorySize() == 0 ? null : contexts.computeIfAbsent(r.readFd(), FdContext::new);
    bus.addRegion(
        SET_IOREGION,
        new KernelIoBus.Region(
            r.guestPaddr(),
            r.memorySize(),
            r.userData(),
            posted,
            r.readFd(),
            r.writeFd(),
            context));
  }

  synchronized void ioeventfd(KvmIoeventfd e) {
    if (e == null) {
      throw new KvmException(IOEVENTFD, Errno.EFAULT, "ioeventfd is null");
    }
    int known = KVM_IOEVENTFD_FLAG_DATAMATCH | KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DEASSIGN;
    if ((e.flags() & ~known) != 0) {
      throw new KvmException(
          IOEVENTFD, Errno.EINVAL, "unknown flags 0x" + Integer.toHexString(e.flags() & ~known));
    }
    if (e.len() != 0 && e.len() != 1 && e.len() != 2 && e.len() != 4 && e.len() != 8) {
      throw new KvmException(
          IOEVENTFD, Errno.EINVAL, "length " + e.len() + " is not 0, 1, 2, 4 or 8");
    }
    boolean isPio = (e.flags() & KVM_IOEVENTFD_FLAG_PIO) != 0;
    if (isPio && e.len() == 0) {
      throw new KvmException(IOEVENTFD, Errno.EINVAL, "a PIO ioeventfd needs a length");
    }
    if (Long.compareUnsigned(e.addr() + Math.max(e.len(), 1), e.addr()) < 0
        || (isPio && Long.compareUnsigned(e.addr() + e.len(), PIO_LIMIT) > 0)) {
      throw new KvmException(IOEVENTFD, Errno.EINVAL, "address overflow");
    }
    boolean datamatch = (e.flags() & KVM_IOEVENTFD_FLAG_DATAMATCH) != 0;
    long value = datamatch ? e.datamatch() & mask(e.len()) : 0;
    KernelIoBus.Eventfd entry =
        new KernelIoBus.Eventfd(e.addr(), e.len(), datamatch, value, e.fd());
    KernelIoBus bus = isPio ? pio : mmio;
    if ((e.flags() & KVM_IOEVENTFD_FLAG_DEASSIGN) != 0) {
      bus.removeEventfd(IOEVENTFD, entry);
      return;
    }
    checkFd(IOEVENTFD, "fd", e.fd());
    bus.addEventfd(IOEVENTFD, entry);
  }

  private static long mask(int len) {
    return len == 0 || len >= 8 ? -1L : (1L << (8 * len)) - 1;
  }

  private static void checkFd(String ioctl, String which, int fd) {
    if (fd < 0 || !Posix.isOpen(fd)) {
      throw new KvmException(
          ioctl, Errno.EBADF, which + " " + fd + " is not an open file descriptor");
    }
  }
}
