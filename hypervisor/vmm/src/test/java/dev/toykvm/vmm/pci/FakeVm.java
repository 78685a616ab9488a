package dev.toykvm.vmm.pci;

import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmIrqRoutingEntry;
import dev.toykvm.kvm.KvmIrqfd;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VmFd;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A VM fd that keeps memory slots as KVM would hold them and records the GSI routing tables and
 * irqfd calls it gets, and does nothing else (a proxy, so that new ioctls on {@link VmFd} need
 * nothing here).
 */
final class FakeVm {
  final Map<Integer, KvmUserspaceMemoryRegion> slots = new TreeMap<>();
  final List<KvmUserspaceMemoryRegion> calls = new ArrayList<>();
  final List<List<KvmIrqRoutingEntry>> tables = new ArrayList<>();
  final List<String> irqfds = new ArrayList<>();
  final VmFd fd =
      (VmFd)
          Proxy.newProxyInstance(
              VmFd.class.getClassLoader(),
              new Class<?>[] {VmFd.class},
              (proxy, method, args) -> {
                switch (method.getName()) {
                  case "setUserMemoryRegion" -> set((KvmUserspaceMemoryRegion) args[0]);
                  case "setGsiRouting" -> {
                    @SuppressWarnings("unchecked")
                    List<KvmIrqRoutingEntry> t = (List<KvmIrqRoutingEntry>) args[0];
                    tables.add(List.copyOf(t));
                  }
                  case "irqfd" -> irqfds.add(describe((KvmIrqfd) args[0]));
                  case "close" -> {}
                  case "toString" -> {
                    return "FakeVm";
                  }
                  default -> throw new UnsupportedOperationException(method.getName());
                }
                return null;
              });

  private void set(KvmUserspaceMemoryRegion region) {
    calls.add(region);
    if (region.memorySize() == 0) {
      if (slots.remove(region.slot()) == null) {
        throw new AssertionError("deleted slot " + region.slot() + " that does not exist");
      }
    } else if (slots.putIfAbsent(region.slot(), region) != null) {
      throw new AssertionError("slot " + region.slot() + " exists: KVM cannot change it in place");
    }
  }

  /** The slot covering {@code gpa}, or null. */
  KvmUserspaceMemoryRegion at(long gpa) {
    return slots.values().stream()
        .filter(r -> gpa >= r.guestPhysAddr() && gpa < r.guestPhysAddr() + r.memorySize())
        .findFirst()
        .orElse(null);
  }

  /** "assign fd F gsi G [resample R]" or "deassign fd F gsi G". */
  static String describe(KvmIrqfd i) {
    boolean deassign = (i.flags() & KvmConstants.KVM_IRQFD_FLAG_DEASSIGN) != 0;
    boolean resample = (i.flags() & KvmConstants.KVM_IRQFD_FLAG_RESAMPLE) != 0;
    return (deassign ? "deassign" : "assign")
        + " fd "
        + i.fd()
        + " gsi "
        + i.gsi()
        + (resample && !deassign ? " resample " + i.resamplefd() : "");
  }
}
