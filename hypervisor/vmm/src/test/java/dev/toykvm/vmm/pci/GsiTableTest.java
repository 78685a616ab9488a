package dev.toykvm.vmm.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmIrqRoutingEntry;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The live GSI table: allocation, and the whole table installed only when it changes. */
@Timeout(60)
class GsiTableTest {
  @Test
  void kvmsDefaultTableRoutesGsi0To15ToBothChipsAnd16To23ToTheIoapic() {
    List<KvmIrqRoutingEntry> t = GsiTable.kvmDefault();
    assertEquals(16 * 2 + 8, t.size());
    assertEquals(KvmIrqRoutingEntry.irqchip(0, KvmConstants.KVM_IRQCHIP_IOAPIC, 0), t.get(0));
    assertEquals(KvmIrqRoutingEntry.irqchip(0, KvmConstants.KVM_IRQCHIP_PIC_MASTER, 0), t.get(1));
    assertEquals(KvmIrqRoutingEntry.irqchip(10, KvmConstants.KVM_IRQCHIP_PIC_SLAVE, 2), t.get(21));
    assertEquals(KvmIrqRoutingEntry.irqchip(23, KvmConstants.KVM_IRQCHIP_IOAPIC, 23), t.get(39));
  }

  @Test
  void allocationSkipsReservedAndTakenGsisAndReusesReleasedOnes() {
    GsiTable t = new GsiTable(new FakeVm().fd, true);
    t.reserve(24);
    t.reserve(26);
    assertEquals(25, t.allocate());
    assertEquals(27, t.allocate());
    assertEquals(28, t.allocate());
    t.release(27);
    assertEquals(27, t.allocate());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.reserve(25));
    assertTrue(e.getMessage().contains("handed out"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> t.release(26), "reserved, not handed out");
  }

  @Test
  void allocationEndsAtGsi4095() {
    GsiTable t = new GsiTable(new FakeVm().fd, true);
    for (int gsi = 24; gsi < 4096; gsi++) {
      assertEquals(gsi, t.allocate());
    }
    IllegalStateException e = assertThrows(IllegalStateException.class, t::allocate);
    assertTrue(e.getMessage().startsWith("cannot allocate a GSI"), e.getMessage());
  }

  @Test
  void theWholeTableIsInstalledOnlyWhenItChanges() {
    FakeVm vm = new FakeVm();
    GsiTable t = new GsiTable(vm.fd, true);
    int a = t.allocate();
    int b = t.allocate();
    assertEquals(List.of(), vm.tables, "nothing until the first MSI route");
    t.setMsi(b, 0xfee01000L, 0x62);
    t.setMsi(a, 0xfee00000L, 0x61);
    t.setMsi(a, 0xfee00000L, 0x61); // the same: no call
    List<KvmIrqRoutingEntry> expected = new ArrayList<>(GsiTable.kvmDefault());
    expected.add(KvmIrqRoutingEntry.msi(a, 0xfee00000, 0, 0x61));
    expected.add(KvmIrqRoutingEntry.msi(b, 0xfee01000, 0, 0x62));
    assertEquals(2, vm.tables.size());
    assertEquals(expected, vm.tables.get(1), "by GSI, after KVM's default");
    assertEquals(expected, t.entries());
    assertTrue(t.isMsi(a));

    t.setMsi(a, 0x1_fee0_0000L, 0x71); // the upper address goes to address_hi
    assertEquals(KvmIrqRoutingEntry.msi(a, 0xfee00000, 1, 0x71), vm.tables.get(2).get(40));
    t.remove(b);
    t.remove(b); // nothing to remove: no call
    assertEquals(4, vm.tables.size());
    assertEquals(41, vm.tables.get(3).size());
    t.release(a);
    assertEquals(GsiTable.kvmDefault(), vm.tables.get(4), "back to the default table");
    assertFalse(t.isMsi(a));
    assertEquals(5, t.installs());
  }

  /** vCPU threads changing routes at once: each table installed is whole, the last has them all. */
  @Test
  void concurrentChangesInstallWholeTables() throws Exception {
    FakeVm vm = new FakeVm();
    GsiTable t = new GsiTable(vm.fd, true);
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      int vector = 0x40 + i;
      threads.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    for (int n = 0; n < 50; n++) {
                      int gsi = t.allocate();
                      t.setMsi(gsi, 0xfee00000L, vector);
                      if (n % 2 == 0) {
                        t.release(gsi);
                      }
                    }
                  }));
    }
    for (Thread th : threads) {
      th.join();
    }
    assertEquals(40 + 4 * 25, t.entries().size());
    assertEquals(t.entries(), vm.tables.getLast());
    assertEquals(t.installs(), vm.tables.size());
    for (List<KvmIrqRoutingEntry> table : vm.tables) {
      assertEquals(GsiTable.kvmDefault(), table.subList(0, 40));
    }
  }

  @Test
  void theIoapicPinsKeepTheirDefaultRoutes() {
    GsiTable t = new GsiTable(new FakeVm().fd, true);
    assertThrows(IllegalArgumentException.class, () -> t.setMsi(23, 0xfee00000L, 0x61));
    assertThrows(IllegalArgumentException.class, () -> t.setMsi(4096, 0xfee00000L, 0x61));
  }

  @Test
  void withoutAnIrqchipNothingIsInstalled() {
    FakeVm vm = new FakeVm();
    GsiTable t = new GsiTable(vm.fd, false);
    t.setMsi(t.allocate(), 0xfee00000L, 0x61);
    t.setMsi(t.allocate(), 0xfee00000L, 0x62);
    assertEquals(List.of(), vm.tables);
    assertEquals(0, t.installs());
    assertEquals(42, t.entries().size(), "the routes are kept");
  }

  @Test
  void aTableTheKernelSideRefusesKeepsTheOldRoute() {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      GsiTable t = new GsiTable(vm, true); // but the VM has none: EINVAL
      int gsi = t.allocate();
      assertThrows(dev.toykvm.kvm.KvmException.class, () -> t.setMsi(gsi, 0xfee00000L, 0x61));
      assertFalse(t.isMsi(gsi));
    }
  }

  /** On the real kernel side: a dynamic route raised with KVM_IRQ_LINE reaches the LAPIC. */
  @Test
  void theKernelSideTakesTheTable() {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      vm.createIrqchip();
      VcpuFd vcpu = vm.createVcpu(0);
      MsixKernel.enableApic(vcpu);
      GsiTable t = new GsiTable(vm, true);
      int gsi = t.allocate();
      t.setMsi(gsi, 0xfee00000L, 0x65);
      vm.irqLine(gsi, 1);
      vm.irqLine(gsi, 0);
      assertTrue(MsixKernel.requested(vcpu, 0x65));
      t.setMsi(gsi, 0xfee00000L, 0x66);
      vm.irqLine(gsi, 1);
      vm.irqLine(gsi, 0);
      assertTrue(MsixKernel.requested(vcpu, 0x66));
    }
  }
}
