package dev.toykvm.kernel;

import dev.toykvm.ioregionfd.channel.FdContext;
import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * One of a VM's two kernel-side I/O buses (PIO or MMIO): the ioregions and ioeventfds that claim
 * accesses before they would exit to the VMM.
 *
 * <p>The rules are those of KVM with the ioregionfd RFC (v3): an ioregion may not overlap another
 * ioregion or an ioeventfd on the same bus, nor an ioeventfd an ioregion ({@code EEXIST} both ways;
 * a zero size or length counts as 8 bytes there, as in the RFC); two ioeventfds may share an
 * address if their length or datamatch differ; an access is claimed by an ioregion only if it lies
 * wholly inside it. Changes are serialized; lookups read an immutable snapshot without locking, so
 * a vCPU that found a region finishes its access on it even if the region is removed meanwhile.
 */
final class KernelIoBus {

  /**
   * An assigned ioregion. {@code writeFd} is the kernel side's own fd for the device's command
   * pipe, and {@code context} holds its own fd for the response pipe (null for a zero-size region).
   */
  static final class Region {
    final long start;
    final long size;
    final long userData;
    final boolean posted;
    final int writeFd;
    final FdContext context;
    final IoRef ref;

    Region(
        long start,
        long size,
        long userData,
        boolean posted,
        int writeFd,
        FdContext context,
        java.util.function.Consumer<Region> onLastRelease) {
      this.start = start;
      this.size = size;
      this.userData = userData;
      this.posted = posted;
      this.writeFd = writeFd;
      this.context = context;
      this.ref = new IoRef(() -> onLastRelease.accept(this));
    }

    long start() {
      return start;
    }

    long size() {
      return size;
    }

    int readFd() {
      return context == null ? -1 : context.readFd();
    }

    /** The end of what the region occupies for collisions: the RFC counts a size of 0 as 8. */
    long end() {
      return start + (size == 0 ? 8 : size);
    }

    boolean contains(long address, int length) {
      if (size == 0) {
        return address == start;
      }
      return address >= start && address + length <= start + size && address + length > address;
    }
  }

  /** An assigned ioregion's eventfd: {@code userFd} as registered, {@code fd} the kernel's own. */
  record Eventfd(
      long address, int length, boolean datamatch, long value, int userFd, int fd, IoRef ref) {
    /** The end of what the ioeventfd occupies against ioregions: a length of 0 counts as 8. */
    long end() {
      return address + (length == 0 ? 8 : length);
    }

    boolean matches(long addr, int len, long data) {
      return addr == address && (length == 0 || length == len) && (!datamatch || data == value);
    }

    boolean sameRegistration(Eventfd o) {
      return address == o.address
          && length == o.length
          && datamatch == o.datamatch
          && (!datamatch || value == o.value);
    }
  }

  private final String name;
  private volatile Region[] regions = new Region[0];
  private volatile Eventfd[] eventfds = new Eventfd[0];

  KernelIoBus(String name) {
    this.name = name;
  }

  synchronized void addRegion(String ioctl, Region r) {
    for (Region o : regions) {
      if (overlaps(r.start(), r.end(), o.start(), o.end())) {
        throw new KvmException(
            ioctl, Errno.EEXIST, describe(r) + " overlaps the ioregion " + describe(o));
      }
    }
    for (Eventfd e : eventfds) {
      if (overlaps(r.start(), r.end(), e.address(), e.end())) {
        throw new KvmException(
            ioctl,
            Errno.EEXIST,
            describe(r) + " overlaps an ioeventfd at 0x" + Long.toHexString(e.address()));
      }
    }
    Region[] next = Arrays.copyOf(regions, regions.length + 1);
    next[regions.length] = r;
    Arrays.sort(next, Comparator.comparingLong(Region::start));
    regions = next;
  }

  /** Removes the region of exactly this start and size; returns it. */
  synchronized Region removeRegion(String ioctl, long start, long size) {
    List<Region> next = new ArrayList<>(Arrays.asList(regions));
    for (Region o : regions) {
      if (o.start() == start && o.size() == size) {
        next.remove(o);
        regions = next.toArray(new Region[0]);
        return o;
      }
    }
    throw new KvmException(
        ioctl,
        Errno.ENOENT,
        String.format("no ioregion at exactly [0x%x, +0x%x) on the %s bus", start, size, name));
  }

  synchronized void addEventfd(String ioctl, Eventfd e) {
    for (Region o : regions) {
      if (overlaps(e.address(), e.end(), o.start(), o.end())) {
        throw new KvmException(
            ioctl,
            Errno.EEXIST,
            "the ioeventfd at 0x"
                + Long.toHexString(e.address())
                + " overlaps the ioregion "
                + describe(o));
      }
    }
    for (Eventfd o : eventfds) {
      if (o.sameRegistration(e)) {
        throw new KvmException(
            ioctl, Errno.EEXIST, "an ioeventfd with this address, length and datamatch exists");
      }
    }
    Eventfd[] next = Arrays.copyOf(eventfds, eventfds.length + 1);
    next[eventfds.length] = e;
    eventfds = next;
  }

  synchronized Eventfd removeEventfd(String ioctl, Eventfd e) {
    for (int i = 0; i < eventfds.length; i++) {
      Eventfd o = eventfds[i];
      if (o.sameRegistration(e) && o.userFd() == e.userFd()) {
        List<Eventfd> next = new ArrayList<>(Arrays.asList(eventfds));
        next.remove(i);
        eventfds = next.toArray(new Eventfd[0]);
        return o;
      }
    }
    throw new KvmException(ioctl, Errno.ENOENT, "no such ioeventfd on the " + name + " bus");
  }

  /** The region that claims an access of {@code length} bytes at {@code address}, or null. */
  Region findRegion(long address, int length, boolean write) {
    for (Region r : regions) {
      if (r.contains(address, length) && (r.size() != 0 || write)) {
        return r;
      }
    }
    return null;
  }

  /** The ioeventfd a write matches, or null. */
  Eventfd findEventfd(long address, int length, long data) {
    for (Eventfd e : eventfds) {
      if (e.matches(address, length, data)) {
        return e;
      }
    }
    return null;
  }

  boolean isEmpty() {
    return regions.length == 0 && eventfds.length == 0;
  }

  List<Region> regions() {
    return List.of(regions);
  }

  List<Eventfd> eventfds() {
    return List.of(eventfds);
  }

  private static boolean overlaps(long s1, long e1, long s2, long e2) {
    return Long.compareUnsigned(s1, e2) < 0 && Long.compareUnsigned(s2, e1) < 0;
  }

  private String describe(Region r) {
    return String.format("[0x%x, +0x%x) on the %s bus", r.start(), r.size(), name);
  }
}
