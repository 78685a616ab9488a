package dev.toykvm.kernel;

import static dev.toykvm.kvm.KvmConstants.KVM_IOEVENTFD_FLAG_DATAMATCH;
import static dev.toykvm.kvm.KvmConstants.KVM_IOEVENTFD_FLAG_DEASSIGN;
import static dev.toykvm.kvm.KvmConstants.KVM_IOEVENTFD_FLAG_PIO;
import static dev.toykvm.kvm.KvmConstants.KVM_IOREGION_DEASSIGN;
import static dev.toykvm.kvm.KvmConstants.KVM_IOREGION_PIO;
import static dev.toykvm.kvm.KvmConstants.KVM_IOREGION_POSTED_WRITES;

import dev.toykvm.ioregionfd.channel.FdContext;
import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmIoeventfd;
import dev.toykvm.kvm.KvmIoregion;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

  /**
   * Where every MMIO registration must end: 2^63. KVM's buses are 64-bit, but nothing a guest can
   * reach lies that high (the physical address limit is 2^36 here, 2^52 on any x86), and a range
   * crossing it would defeat signed comparisons; refusing it (EINVAL) is the honest answer.
   */
  private static final long ADDRESS_LIMIT = 1L << 63;

  final KernelIoBus pio = new KernelIoBus("pio");
  final KernelIoBus mmio = new KernelIoBus("mmio");
  private final Map<String, Shared> contexts = new HashMap<>();

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
      bus.removeRegion(SET_IOREGION, r.guestPaddr(), r.memorySize()).ref.retire();
      return;
    }
    boolean posted = (r.flags() & KVM_IOREGION_POSTED_WRITES) != 0;
    if (r.memorySize() == 0 && !posted) {
      throw new KvmException(
          SET_IOREGION, Errno.EINVAL, "a zero-size region needs KVM_IOREGION_POSTED_WRITES");
    }
    long end = r.guestPaddr() + r.memorySize();
    if (Long.compareUnsigned(end, r.guestPaddr()) < 0
        || Long.compareUnsigned(end, ADDRESS_LIMIT) > 0
        || (isPio && Long.compareUnsigned(Math.max(end, r.guestPaddr() + 1), PIO_LIMIT) > 0)) {
      throw new KvmException(
          SET_IOREGION,
          Errno.EINVAL,
          String.format(
              "[0x%x, +0x%x) overflows the %s address space",
              r.guestPaddr(), r.memorySize(), isPio ? "16-bit port" : "2^63-byte"));
    }
    checkFd(SET_IOREGION, "write_fd", r.writeFd());
    if (r.memorySize() != 0) {
      checkFd(SET_IOREGION, "read_fd", r.readFd());
    }
    // The kernel side's own references, as KVM takes them with fget(): the VMM may close its fds.
    int writeFd = commandFd(r.writeFd());
    FdContext context = null;
    try {
      context = r.memorySize() == 0 ? null : acquireContext(r.readFd());
      KernelIoBus.Region region =
          new KernelIoBus.Region(
              r.guestPaddr(),
              r.memorySize(),
              r.userData(),
              posted,
              writeFd,
              context,
              this::closeRegion);
      bus.addRegion(SET_IOREGION, region);
    } catch (RuntimeException e) {
      Fds.close(writeFd);
      if (context != null) {
        releaseContext(context);
      }
      throw e;
    }
  }

  /**
   * The kernel side's fd for sending commands: a non-blocking description of its own where the file
   * allows it (a pipe), so that a send costs one {@code write} and a full pipe is noticed rather
   * than blocked on; the VMM's fd keeps its own flags. Otherwise a plain duplicate.
   */
  private static int commandFd(int fd) {
    try {
      return Fds.reopen(fd, Fds.O_WRONLY | Fds.O_NONBLOCK);
    } catch (RuntimeException e) {
      return Fds.dup(fd);
    }
  }

  /** The context of the file behind {@code readFd}: regions that read from one file share it. */
  private FdContext acquireContext(int readFd) {
    String file = identity(readFd);
    Shared shared = contexts.get(file);
    if (shared == null) {
      shared = new Shared(new FdContext(Fds.dup(readFd)), file);
      contexts.put(file, shared);
    }
    shared.users++;
    return shared.context;
  }

  private synchronized void releaseContext(FdContext context) {
    for (Shared shared : contexts.values()) {
      if (shared.context == context) {
        if (--shared.users == 0) {
          contexts.remove(shared.file);
          Fds.close(context.readFd());
        }
        return;
      }
    }
  }

  /** Called once no vCPU uses a removed region any more. */
  private void closeRegion(KernelIoBus.Region r) {
    Fds.close(r.writeFd);
    if (r.context != null) {
      releaseContext(r.context);
    }
  }

  private static String identity(int fd) {
    try {
      return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
    } catch (IOException | RuntimeException e) {
      return "fd " + fd;
    }
  }

  private static final class Shared {
    final FdContext context;
    final String file;
    int users;

    Shared(FdContext context, String file) {
      this.context = context;
      this.file = file;
    }
  }

  /** Removes every registration (the VM is closing; its vCPUs are gone). */
  synchronized void close() {
    for (KernelIoBus bus : new KernelIoBus[] {pio, mmio}) {
      for (KernelIoBus.Region r : bus.regions()) {
        bus.removeRegion(SET_IOREGION, r.start(), r.size()).ref.retire();
      }
      for (KernelIoBus.Eventfd e : bus.eventfds()) {
        bus.removeEventfd(IOEVENTFD, e).ref().retire();
      }
    }
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
        || Long.compareUnsigned(e.addr() + e.len(), ADDRESS_LIMIT) > 0
        || (isPio && Long.compareUnsigned(e.addr() + e.len(), PIO_LIMIT) > 0)) {
      throw new KvmException(IOEVENTFD, Errno.EINVAL, "address overflow");
    }
    boolean datamatch = (e.flags() & KVM_IOEVENTFD_FLAG_DATAMATCH) != 0;
    long value = datamatch ? e.datamatch() & mask(e.len()) : 0;
    KernelIoBus bus = isPio ? pio : mmio;
    if ((e.flags() & KVM_IOEVENTFD_FLAG_DEASSIGN) != 0) {
      KernelIoBus.Eventfd key =
          new KernelIoBus.Eventfd(e.addr(), e.len(), datamatch, value, e.fd(), -1, null);
      bus.removeEventfd(IOEVENTFD, key).ref().retire();
      return;
    }
    checkFd(IOEVENTFD, "fd", e.fd());
    if (!Eventfd.isEventfd(e.fd())) {
      throw new KvmException(IOEVENTFD, Errno.EINVAL, "fd " + e.fd() + " is not an eventfd");
    }
    int fd = Fds.dup(e.fd());
    KernelIoBus.Eventfd entry =
        new KernelIoBus.Eventfd(
            e.addr(), e.len(), datamatch, value, e.fd(), fd, new IoRef(() -> Fds.close(fd)));
    try {
      bus.addEventfd(IOEVENTFD, entry);
    } catch (RuntimeException ex) {
      Fds.close(fd);
      throw ex;
    }
  }

  private static long mask(int len) {
    return len == 0 || len >= 8 ? -1L : (1L << (8 * len)) - 1;
  }

  private static void checkFd(String ioctl, String which, int fd) {
    if (fd < 0 || !Fds.isOpen(fd)) {
      throw new KvmException(
          ioctl, Errno.EBADF, which + " " + fd + " is not an open file descriptor");
    }
  }
}
