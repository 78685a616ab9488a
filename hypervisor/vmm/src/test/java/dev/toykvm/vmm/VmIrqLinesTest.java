package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.VmFd;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** ISA lines of VMM devices reach {@code KVM_IRQ_LINE}; without an irqchip they go nowhere. */
class VmIrqLinesTest {
  private final List<String> calls = new ArrayList<>();

  private VmFd vm(boolean irqchip) {
    return (VmFd)
        Proxy.newProxyInstance(
            VmFd.class.getClassLoader(),
            new Class<?>[] {VmFd.class},
            (proxy, method, args) -> {
              if (!method.getName().equals("irqLine")) {
                throw new UnsupportedOperationException(method.getName());
              }
              calls.add(args[0] + "=" + args[1]);
              if (!irqchip) {
                throw new KvmException("KVM_IRQ_LINE", Errno.ENXIO, "no irqchip");
              }
              return null;
            });
  }

  @Test
  void aLineIsDrivenThroughKvmIrqLine() {
    VmIrqLines lines = new VmIrqLines(vm(true));
    lines.setIrq(8, true);
    lines.setIrq(8, false);
    assertEquals(List.of("8=1", "8=0"), calls);
  }

  @Test
  void withoutAnIrqchipTheLineGoesNowhereAndIsNotAskedAgain() {
    VmIrqLines lines = new VmIrqLines(vm(false));
    lines.setIrq(8, true);
    lines.setIrq(8, false);
    assertEquals(List.of("8=1"), calls);
  }
}
