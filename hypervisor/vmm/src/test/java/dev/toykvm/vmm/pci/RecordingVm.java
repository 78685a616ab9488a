package dev.toykvm.vmm.pci;

import dev.toykvm.kvm.KvmIrqRoutingEntry;
import dev.toykvm.kvm.KvmIrqfd;
import dev.toykvm.kvm.VmFd;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

/**
 * A VM fd that records the routing tables and irqfd calls it gets and does nothing else (a proxy,
 * so that new ioctls on {@link VmFd} need nothing here).
 */
final class RecordingVm {
  final List<List<KvmIrqRoutingEntry>> tables = new ArrayList<>();
  final List<String> irqfds = new ArrayList<>();
  final VmFd fd =
      (VmFd)
          Proxy.newProxyInstance(
              VmFd.class.getClassLoader(),
              new Class<?>[] {VmFd.class},
              (proxy, method, args) -> {
                switch (method.getName()) {
                  case "setGsiRouting" -> {
                    @SuppressWarnings("unchecked")
                    List<KvmIrqRoutingEntry> t = (List<KvmIrqRoutingEntry>) args[0];
                    tables.add(List.copyOf(t));
                  }
                  case "irqfd" -> irqfds.add(describe((KvmIrqfd) args[0]));
                  case "close" -> {}
                  case "toString" -> {
                    return "RecordingVm";
                  }
                  default -> throw new UnsupportedOperationException(method.getName());
                }
                return null;
              });

  /** "assign fd F gsi G [resample R]" or "deassign fd F gsi G". */
  static String describe(KvmIrqfd i) {
    boolean deassign = (i.flags() & dev.toykvm.kvm.KvmConstants.KVM_IRQFD_FLAG_DEASSIGN) != 0;
    boolean resample = (i.flags() & dev.toykvm.kvm.KvmConstants.KVM_IRQFD_FLAG_RESAMPLE) != 0;
    return (deassign ? "deassign" : "assign")
        + " fd "
        + i.fd()
        + " gsi "
        + i.gsi()
        + (resample && !deassign ? " resample " + i.resamplefd() : "");
  }
}
