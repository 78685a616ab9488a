package dev.toykvm.kernel;

import static dev.toykvm.kvm.KvmConstants.KVM_MEM_LOG_DIRTY_PAGES;
import static dev.toykvm.kvm.KvmConstants.KVM_MEM_READONLY;
import static dev.toykvm.kvm.KvmConstants.PAGE_SIZE;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import java.lang.foreign.MemorySegment;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The memory slots of a VM and the rules of {@code KVM_SET_USER_MEMORY_REGION}. Thread-safe; every
 * change bumps {@link #generation()}, which vCPUs compare to know they must remap.
 *
 * <p>Guest memory follows KVM's model, where {@code userspace_addr} is a pointer: a slot keeps the
 * VMM's address and uses it from the engine thread through a view with the global scope, so memory
 * of any native segment is accepted, confined arenas included. What Java can check is checked here:
 * a heap segment is refused ({@code EINVAL}, it has no fixed address) and so is memory whose arena
 * is already closed ({@code EFAULT}). Memory freed later, while registered, is {@code EFAULT} at
 * the next {@code KVM_RUN} (see {@code ToyVcpu}), and a shared arena cannot be closed while a guest
 * runs on it (see {@link MemoryHold}).
 */
final class MemorySlots {
  static final String IOCTL = "KVM_SET_USER_MEMORY_REGION";

  /** {@code KVM_CAP_NR_MEMSLOTS}. */
  static final int MAX_SLOTS = 32;

  /** Guest-physical addresses are 36 bits wide (64 GiB), as the toykvm CPU reports. */
  static final long PHYS_LIMIT = 1L << 36;

  private final Map<Integer, MemorySlot> slots = new TreeMap<>();
  private volatile long generation;
  private volatile List<MemorySlot> snapshot = List.of();

  /** Applies one {@code KVM_SET_USER_MEMORY_REGION}; throws with KVM's errno if invalid. */
  synchronized void set(KvmUserspaceMemoryRegion r) {
    if (r == null) {
      throw fail(Errno.EFAULT, "region is null");
    }
    if ((r.flags() & ~(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY)) != 0) {
      throw fail(Errno.EINVAL, "unknown flags 0x" + Integer.toHexString(r.flags()));
    }
    if (r.slot() < 0 || r.slot() >= MAX_SLOTS) {
      throw fail(Errno.EINVAL, "slot " + r.slot() + " is not in 0.." + (MAX_SLOTS - 1));
    }
    if (r.memorySize() < 0 || r.memorySize() % PAGE_SIZE != 0) {
      throw fail(
          Errno.EINVAL,
          "memory_size 0x"
              + Long.toHexString(r.memorySize())
              + " is not a multiple of the 4 KiB page size");
    }
    if (r.guestPhysAddr() < 0 || r.guestPhysAddr() % PAGE_SIZE != 0) {
      throw fail(
          Errno.EINVAL,
          "guest_phys_addr 0x" + Long.toHexString(r.guestPhysAddr()) + " is not page-aligned");
    }
    MemorySlot old = slots.get(r.slot());
    if (r.memorySize() == 0) {
      if (old == null) {
        throw fail(Errno.EINVAL, "slot " + r.slot() + " does not exist, so it cannot be deleted");
      }
      slots.remove(r.slot());
      publish();
      return;
    }
    long end = r.guestPhysAddr() + r.memorySize();
    if (end < r.guestPhysAddr() || end > PHYS_LIMIT) {
      throw fail(
          Errno.EINVAL,
          String.format(
              "0x%x + 0x%x goes beyond the 36-bit guest-physical address space",
              r.guestPhysAddr(), r.memorySize()));
    }
    MemorySegment mem = r.userspaceAddr();
    if (mem != null && !mem.isNative()) {
      throw fail(
          Errno.EINVAL,
          "userspace_addr is a heap segment, not native memory: the guest needs memory with a"
              + " fixed address (allocate it from an Arena, or map a file)");
    }
    if (mem == null || mem.address() == 0) {
      throw fail(Errno.EINVAL, "userspace_addr is NULL");
    }
    if (!mem.scope().isAlive()) {
      throw fail(Errno.EFAULT, "userspace_addr belongs to a closed arena: its memory is freed");
    }
    if (mem.address() % PAGE_SIZE != 0) {
      throw fail(
          Errno.EINVAL,
          "userspace_addr 0x" + Long.toHexString(mem.address()) + " is not page-aligned");
    }
    if (mem.byteSize() < r.memorySize()) {
      throw fail(
          Errno.EINVAL,
          "userspace_addr covers 0x"
              + Long.toHexString(mem.byteSize())
              + " bytes, less than memory_size 0x"
              + Long.toHexString(r.memorySize()));
    }
    if (old != null) {
      if (old.size() != r.memorySize()) {
        throw fail(Errno.EINVAL, "slot " + r.slot() + " exists with another size; delete it first");
      }
      if (old.memory().address() != mem.address()) {
        throw fail(Errno.EINVAL, "slot " + r.slot() + " exists with another userspace_addr");
      }
      if (((old.flags() ^ r.flags()) & KVM_MEM_READONLY) != 0) {
        throw fail(Errno.EINVAL, "KVM_MEM_READONLY of an existing slot cannot change");
      }
    }
    for (MemorySlot other : slots.values()) {
      if (other.id() != r.slot() && other.overlaps(r.guestPhysAddr(), r.memorySize())) {
        throw fail(
            Errno.EEXIST,
            String.format(
                "[0x%x, 0x%x) overlaps slot %d at [0x%x, 0x%x)",
                r.guestPhysAddr(), end, other.id(), other.guestPhysAddr(), other.end()));
      }
    }
    // The engine thread uses the address only: a confined segment is not accessible there.
    MemorySegment view = MemorySegment.ofAddress(mem.address()).reinterpret(r.memorySize());
    slots.put(
        r.slot(),
        new MemorySlot(r.slot(), r.flags(), r.guestPhysAddr(), r.memorySize(), view, mem));
    publish();
  }

  private void publish() {
    snapshot =
        slots.values().stream()
            .sorted(Comparator.comparingLong(MemorySlot::guestPhysAddr))
            .toList();
    generation++;
  }

  /** The slots sorted by address; an immutable snapshot. */
  List<MemorySlot> snapshot() {
    return snapshot;
  }

  long generation() {
    return generation;
  }

  /** The slot containing {@code gpa}, or null. */
  MemorySlot find(long gpa) {
    for (MemorySlot s : snapshot) {
      if (gpa >= s.guestPhysAddr() && gpa < s.end()) {
        return s;
      }
    }
    return null;
  }

  /** The bytes of guest-physical {@code [address, +length)} if one slot holds them all, or null. */
  byte[] read(long address, int length) {
    MemorySlot slot = find(address);
    if (slot == null || address + length > slot.end()) {
      return null;
    }
    return slot.memory()
        .asSlice(address - slot.guestPhysAddr(), length)
        .toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
  }

  /**
   * Writes {@code bytes} at guest-physical {@code address} if one slot holds them all (a read-only
   * slot only if {@code evenReadOnly}: the kernel side putting its old bytes back).
   *
   * @return whether they were written
   */
  boolean write(long address, byte[] bytes, boolean evenReadOnly) {
    MemorySlot slot = find(address);
    if (slot == null || (slot.readOnly() && !evenReadOnly) || address + bytes.length > slot.end()) {
      return false;
    }
    slot.memory()
        .asSlice(address - slot.guestPhysAddr(), bytes.length)
        .copyFrom(java.lang.foreign.MemorySegment.ofArray(bytes));
    return true;
  }

  /** The slots' memory for {@link ReadOnlyRestores}, which also writes read-only slots. */
  ReadOnlyRestores.Memory rawMemory() {
    return new ReadOnlyRestores.Memory() {
      @Override
      public byte[] read(long address, int length) {
        return MemorySlots.this.read(address, length);
      }

      @Override
      public void write(long address, byte[] bytes) {
        MemorySlots.this.write(address, bytes, true);
      }

      @Override
      public java.util.List<long[]> aliases(long address, int length) {
        return MemorySlots.this.aliases(address, length);
      }
    };
  }

  /** See {@link ReadOnlyRestores.Memory#aliases}: other slots over the same host memory. */
  java.util.List<long[]> aliases(long address, int length) {
    MemorySlot slot = find(address);
    java.util.List<long[]> views = new java.util.ArrayList<>();
    if (slot == null) {
      return views;
    }
    long host = slot.memory().address() + (address - slot.guestPhysAddr());
    for (MemorySlot other : snapshot) {
      if (other == slot) {
        continue;
      }
      long base = other.memory().address();
      long from = Math.max(host, base);
      long to = Math.min(host + length, base + (other.end() - other.guestPhysAddr()));
      if (from < to) {
        views.add(new long[] {other.guestPhysAddr() + (from - base), to - from});
      }
    }
    return views;
  }

  private static KvmException fail(Errno errno, String why) {
    return new KvmException(IOCTL, errno, why);
  }
}
