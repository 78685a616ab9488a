package dev.toykvm.vmm;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.devices.bus.Bus;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Poll;
import dev.toykvm.vmm.pci.BarListener;
import dev.toykvm.vmm.pci.GsiTable;
import dev.toykvm.vmm.pci.IsaBridge;
import dev.toykvm.vmm.pci.MsixCapability;
import dev.toykvm.vmm.pci.MsixTable;
import dev.toykvm.vmm.pci.NvmeFunction;
import dev.toykvm.vmm.pci.PciDevice;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The NVMe function's interrupts wired on the real kernel side: BAR4 follows the guest onto the
 * VMM's MMIO bus as the MSI-X table; a vector's irqfd is taken by the kernel side once the guest
 * enables MSI-X and unmasks its entry; INTx's irqfd once the PIIX3 routes the pin.
 */
@Timeout(60)
class PciInterruptRoutesTest {
  private static final long BAR4 = 0xfebf_0000L;

  private static boolean readable(int fd) {
    return Poll.poll(fd, 0).revents() != 0;
  }

  @Test
  void bar4IsTheTableAndTheIrqfdsFollowTheGuest() {
    Bus pio = new Bus("pio");
    Bus mmio = new Bus("mmio");
    IsaBridge isa = new IsaBridge();
    DeviceIrqfds fds = DeviceIrqfds.forPci(List.of(24, 25), 11);
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      vm.createIrqchip();
      GsiTable gsis = new GsiTable(vm, true);
      NvmeFunction function = new NvmeFunction("nvme", 2, s -> {});
      var attached =
          new PciPlumbing.PciAttached(
              DeviceSpec.parse("nvme,disk=/tmp/d.img,queues=1"),
              function,
              3,
              fds.vectors(),
              fds.intx());
      try (PciInterruptRoutes routes = new PciInterruptRoutes(pio, mmio, () -> gsis, isa)) {
        BarListener msix = routes.attach(vm, attached);
        function.listen(NvmeFunction.routes(BarListener.NONE, msix));
        function.writeConfig(0x20, 4, (int) BAR4);
        function.writeConfig(PciDevice.COMMAND, 2, PciDevice.COMMAND_MEMORY);
        var table = mmio.lookup(BAR4).orElseThrow();
        assertTrue(table.device() instanceof MsixTable, table.toString());

        // Vector 0: an MSI to APIC 0, vector 0x40, unmasked; then MSI-X on.
        table.device().write(0, 4, 0xfee0_0000L);
        table.device().write(8, 4, 0x40);
        table.device().write(12, 4, 0);
        int v0 = fds.vectors().get(0).fd();
        Eventfd.signal(v0);
        assertTrue(readable(v0), "MSI-X off: the message stays pending");
        function.writeConfig(function.msixCapability() + 2, 2, MsixCapability.CONTROL_ENABLE);
        await().atMost(Duration.ofSeconds(10)).until(() -> !readable(v0));

        // INTx: PIRQ (3 + 1 - 1) & 3 = D, disabled after reset; routed to IRQ 11, the irqfd is
        // assigned and the kernel side takes the write.
        int intx = fds.intx().fd();
        Eventfd.signal(intx);
        assertTrue(readable(intx), "no route: nothing takes it");
        assertEquals(3, IsaBridge.pirqOf(3, 1));
        isa.writeConfig(IsaBridge.PIRQ_ROUTE + 3, 1, 11);
        await().atMost(Duration.ofSeconds(10)).until(() -> !readable(intx));
      }
    } finally {
      fds.close();
    }
  }
}
