package dev.toykvm.kernel;

import dev.toykvm.ioregionfd.channel.IoregionAccess;
import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.posix.Eventfd;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes one guest access as KVM's {@code kvm_io_bus} does: an ioeventfd that matches is signalled
 * and the guest goes on; an ioregion gets a command over its pipe and, unless it is a posted write,
 * the answer is waited for right here; anything else exits to the VMM. Runs on the engine thread,
 * inside a Unicorn callback; allocation-free on the ioeventfd and ioregion routes.
 */
final class AccessRouter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AccessRouter.class);

  /**
   * The kernel side's tracepoints (like {@code kvm:kvm_mmio}): accesses that the kernel side
   * completes itself, which the VMM never sees as exits. Enabled at TRACE level.
   */
  private static final Logger trace = LoggerFactory.getLogger("toykvm.trace");

  private final int vcpuId;
  private final KernelIo io;
  private final IoregionAccess access;
  private final PostedWrites posted;
  private final VcpuLink vcpu;
  private final BooleanSupplier kicked;

  AccessRouter(int vcpuId, KernelIo io, IoregionAccess access, PostedWrites posted, VcpuLink vcpu) {
    this.vcpuId = vcpuId;
    this.io = io;
    this.access = access;
    this.posted = posted;
    this.vcpu = vcpu;
    this.kicked = vcpu::kicked;
  }

  /** The vCPU's posted writes (flushed by the engine at block starts and before exits). */
  PostedWrites posted() {
    return posted;
  }

  /** Routes one access; returns the value of a read. */
  long access(boolean pio, boolean write, long address, int size, long data) {
    KernelIoBus bus = pio ? io.pio : io.mmio;
    if (!bus.isEmpty()) {
      if (write) {
        KernelIoBus.Eventfd e = bus.findEventfd(address, size, data);
        if (e != null && e.ref().tryAcquire()) {
          try {
            signal(e, pio, address, size, data);
          } finally {
            e.ref().release();
          }
          return 0;
        }
      }
      KernelIoBus.Region r = bus.findRegion(address, size, write);
      if (r != null && r.ref.tryAcquire()) {
        try {
          return ioregion(r, pio, write, address, size, data);
        } finally {
          r.ref.release();
        }
      }
    }
    return exitToVmm(pio, write, address, size, data);
  }

  /**
   * Whether the kernel side itself serves this access (an ioeventfd or an ioregion claims it), so
   * that it never reaches the VMM: string I/O to such a port goes element by element, as KVM's
   * in-kernel devices see it.
   */
  boolean kernelClaims(boolean pio, boolean write, long address, int size, long data) {
    KernelIoBus bus = pio ? io.pio : io.mmio;
    if (bus.isEmpty()) {
      return false;
    }
    return (write && bus.findEventfd(address, size, data) != null)
        || bus.findRegion(address, size, write) != null;
  }

  /** The access as an ordinary exit to the VMM ({@code KVM_EXIT_IO} / {@code KVM_EXIT_MMIO}). */
  long exitToVmm(boolean pio, boolean write, long address, int size, long data) {
    posted.flush();
    VcpuExit exit;
    if (pio) {
      exit =
          write
              ? new VcpuExit.IoOut((int) address, size, data)
              : new VcpuExit.IoIn((int) address, size, vcpu.completion());
    } else {
      exit =
          write
              ? new VcpuExit.MmioWrite(address, size, data)
              : new VcpuExit.MmioRead(address, size, vcpu.completion());
    }
    return vcpu.exitToVmm(exit);
  }

  private void signal(KernelIoBus.Eventfd e, boolean pio, long address, int size, long data) {
    posted.flush(); // a doorbell comes after the posted writes before it
    if (trace.isTraceEnabled()) {
      trace.trace(
          "[vcpu{}] ioeventfd {} write {}=0x{} size={} data=0x{} -> eventfd {}",
          vcpuId,
          pio ? "pio" : "mmio",
          pio ? "port" : "addr",
          Long.toHexString(address),
          size,
          Long.toHexString(data),
          e.fd());
    }
    try {
      Eventfd.signal(e.fd());
      vcpu.stats().count(VcpuStats.Counter.IOEVENTFD_SIGNALS);
    } catch (RuntimeException ex) {
      log.debug("vcpu{}: ioeventfd {} cannot be signalled: {}", vcpuId, e.fd(), ex.toString());
    }
  }

  /** An access to an ioregion, done here in the kernel side: the VMM never sees it. */
  private long ioregion(
      KernelIoBus.Region r, boolean pio, boolean write, long address, int size, long data) {
    if (write && r.posted) {
      posted.add(r, pio, address, size, data);
      return 0;
    }
    posted.flush();
    long offset = address - r.start;
    IoregionCommand cmd =
        write
            ? IoregionCommand.write(r.userData, offset, size, data, !r.posted)
            : IoregionCommand.read(r.userData, offset, size);
    vcpu.stats().count(VcpuStats.Counter.IOREGIONFD_ACCESSES);
    access.start(r.context, r.writeFd, cmd);
    while (true) {
      switch (access.run(kicked)) {
        case DONE -> {
          long value = write ? 0 : access.value();
          if (trace.isTraceEnabled()) {
            traceDone(r, pio, write, address, size, write ? data : value);
          }
          return value;
        }
        case INTERRUPTED -> {
          if (!vcpu.kicked()) {
            vcpu.consumeKick(); // a stale wake-up from a kick already consumed
            continue;
          }
          vcpu.consumeKick();
          vcpu.exitToVmm(new VcpuExit.Intr());
          if (r.ref.isRetired()) {
            // The region was removed while the vCPU was out: finish as an ordinary exit.
            access.abandon();
            return exitToVmm(pio, write, address, size, data);
          }
        }
        case FAILED -> {
          log.debug("vcpu{}: ioregion access failed: {}", vcpuId, access.failure());
          return vcpu.exitToVmm(
              new VcpuExit.IoregionfdFailure(
                  address,
                  size,
                  write,
                  write ? data : 0,
                  pio,
                  r.start,
                  r.size,
                  errno(access.failureErrno()),
                  access.failure(),
                  vcpu.completion()));
        }
      }
    }
  }

  private void traceDone(
      KernelIoBus.Region r, boolean pio, boolean write, long address, int size, long value) {
    trace.trace(
        "[vcpu{}] ioregionfd {} {} {}=0x{} size={} {} 0x{} (user_data={}, cmd fd {}, resp fd {})",
        vcpuId,
        pio ? "pio" : "mmio",
        write ? "write" : "read",
        pio ? "port" : "addr",
        Long.toHexString(address),
        size,
        write ? "data" : "->",
        Long.toHexString(value & IoregionCommand.mask(size)),
        r.userData,
        r.writeFd,
        r.readFd());
  }

  /** The {@link Errno} of a number from the ioregionfd channel; EIO if unknown. */
  static Errno errno(int number) {
    for (Errno e : Errno.values()) {
      if (e.number() == number) {
        return e;
      }
    }
    return Errno.EIO;
  }

  @Override
  public void close() {
    access.close();
  }
}
