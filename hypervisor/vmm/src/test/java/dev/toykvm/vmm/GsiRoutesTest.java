package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmIrqRoutingEntry;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.vmm.pci.GsiTable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The routing table the VMM installs for {@code msi=} routes. */
class GsiRoutesTest {
  private static final String MSI_DEVICE =
      "testdev,mmio=0xfeb00000,size=0x1000,edge-irq=24+30,msi=24:0xfee01000:0x61+30:0xfee00000:0x62";

  @Test
  void noMsiRouteNoTable() {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      vm.createIrqchip();
      GsiTable t =
          GsiRoutes.install(
              vm, List.of(DeviceSpec.parse("testdev,pio=0x1234,irq=5,edge-irq=24")), true);
      assertEquals(0, t.installs());
      assertEquals(25, t.allocate(), "GSI 24 is the device's edge line");
    }
  }

  @Test
  void msiRoutesComeAfterTheDefaultOnesAndTheirGsisAreReserved() {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      vm.createIrqchip();
      GsiTable table = GsiRoutes.install(vm, List.of(DeviceSpec.parse(MSI_DEVICE)), true);
      List<KvmIrqRoutingEntry> t = table.entries();
      assertEquals(GsiTable.kvmDefault(), t.subList(0, 40));
      assertEquals(
          List.of(
              KvmIrqRoutingEntry.msi(24, 0xfee01000, 0, 0x61),
              KvmIrqRoutingEntry.msi(30, 0xfee00000, 0, 0x62)),
          t.subList(40, 42));
      for (int gsi = 25; gsi < 30; gsi++) {
        assertEquals(gsi, table.allocate());
      }
      assertEquals(31, table.allocate(), "GSI 30 is the device's");
    }
  }

  @Test
  void twoDevicesMayNotRouteOneGsi() {
    DeviceSpec a = DeviceSpec.parse("testdev,pio=0x1234,edge-irq=24,msi=24:0xfee00000:0x61");
    DeviceSpec b = DeviceSpec.parse("testdev,pio=0x1240,edge-irq=24,msi=24:0xfee00000:0x62");
    DeviceException e = assertThrows(DeviceException.class, () -> GsiRoutes.check(List.of(a, b)));
    assertTrue(e.getMessage().contains("GSI 24"), e.getMessage());
  }

  @Test
  void aLevelLineMayNotShareAnMsiRoute() {
    DeviceSpec a = DeviceSpec.parse("testdev,pio=0x1234,edge-irq=24,msi=24:0xfee00000:0x61");
    DeviceSpec b = DeviceSpec.parse("testdev,pio=0x1240,irq=24");
    DeviceException e = assertThrows(DeviceException.class, () -> GsiRoutes.check(List.of(a, b)));
    assertTrue(e.getMessage().contains("never be resampled"), e.getMessage());
  }

  /** The kernel side takes the table, and GSI 24 then sends the MSI to APIC 0's IRR. */
  @Test
  void theKernelSideTakesTheTableAndTheMsiRouteReachesTheLapic() {
    DeviceSpec d = DeviceSpec.parse("testdev,pio=0x1234,edge-irq=24,msi=24:0xfee00000:0x61");
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      vm.createIrqchip();
      VcpuFd vcpu = vm.createVcpu(0);
      ByteBuffer page = ByteBuffer.wrap(vcpu.getLapic()).order(ByteOrder.LITTLE_ENDIAN);
      page.putInt(0xf0, 0x1ff); // SPIV: software-enabled
      vcpu.setLapic(page.array());
      GsiRoutes.install(vm, List.of(d), true);
      vm.irqLine(24, 1);
      vm.irqLine(24, 0);
      ByteBuffer after = ByteBuffer.wrap(vcpu.getLapic()).order(ByteOrder.LITTLE_ENDIAN);
      int irr3 = after.getInt(0x200 + 0x30); // IRR bits 96-127
      assertEquals(1 << (0x61 - 96), irr3 & 1 << (0x61 - 96), "vector 0x61 requested");
    }
  }
}
