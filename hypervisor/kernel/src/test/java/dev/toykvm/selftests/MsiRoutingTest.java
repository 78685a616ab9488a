package dev.toykvm.selftests;

import static dev.toykvm.kvm.KvmConstants.KVM_IRQCHIP_IOAPIC;
import static dev.toykvm.kvm.KvmConstants.KVM_IRQCHIP_PIC_MASTER;
import static dev.toykvm.kvm.KvmConstants.KVM_IRQCHIP_PIC_SLAVE;
import static dev.toykvm.kvm.KvmIrqRoutingEntry.irqchip;
import static dev.toykvm.kvm.KvmIrqRoutingEntry.msi;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmIrqRoutingEntry;
import dev.toykvm.kvm.KvmIrqfd;
import dev.toykvm.kvm.KvmMsi;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * {@code KVM_SIGNAL_MSI} to each destination mode, to an absent and a disabled local APIC; {@code
 * KVM_SET_GSI_ROUTING} moving a GSI, MSI routes reached by {@code KVM_IRQ_LINE} and irqfds, and
 * every errno KVM gives.
 */
@Timeout(60)
class MsiRoutingTest {
  private static final int MSI_BASE = 0xfee00000;
  private static final int LOGICAL = 1 << 2;
  private static final int REDIRECTION_HINT = 1 << 3;
  private static final int LOWEST_PRIORITY = 1 << 8;
  private static final int LEVEL = 1 << 15;
  private static final int NMI = 4 << 8;

  private static void assertErrno(Errno errno, Executable call) {
    KvmException e = assertThrows(KvmException.class, call);
    assertEquals(errno, e.errno(), e.getMessage());
  }

  private static KvmMsi msiTo(int dest, int modeBits, int data) {
    return KvmMsi.ZERO.withAddressLo(MSI_BASE | dest << 12 | modeBits).withData(data);
  }

  /** The handler of {@code vector} runs and returns to the hlt loop. */
  private static void handled(IrqGuest g, int vector) {
    assertEquals(new VcpuExit.IoOut(0x80, 1, vector), g.run());
    assertEquals(new VcpuExit.IoOut(0x81, 1, vector), g.run());
    g.runUntilHalted();
  }

  @Test
  void anMsiReachesEachDestinationModeAndNotAnAbsentOrDisabledApic() {
    try (IrqGuest g = IrqGuest.create().handler(0x58).handler(0x59).handler(0x5a)) {
      g.runUntilHalted(); // the guest software-enabled its APIC (ID 0)
      CompletableFuture<Integer> sent =
          CompletableFuture.supplyAsync(() -> g.vm.signalMsi(msiTo(0, 0, 0x58)));
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x58), g.run()); // physical 0, from hlt
      assertEquals(1, sent.join());
      assertEquals(g.afterHlt(), g.savedEip());
      assertEquals(new VcpuExit.IoOut(0x81, 1, 0x58), g.run());
      g.runUntilHalted();

      assertEquals(0, g.vm.signalMsi(msiTo(1, 0, 0x58))); // no APIC 1
      assertEquals(1, g.vm.signalMsi(msiTo(0xff, 0, 0x59))); // physical broadcast
      handled(g, 0x59);

      g.setLapicRegister(0xd0, 0x01000000); // LDR: logical ID 1
      g.setLapicRegister(0xe0, 0xffffffff); // DFR: the flat model
      assertEquals(0, g.vm.signalMsi(msiTo(0x02, LOGICAL, 0x5a))); // not ours
      assertEquals(1, g.vm.signalMsi(msiTo(0x03, LOGICAL, 0x5a)));
      handled(g, 0x5a);
      assertEquals(
          1, g.vm.signalMsi(msiTo(0x01, LOGICAL | REDIRECTION_HINT, 0x58 | LOWEST_PRIORITY)));
      handled(g, 0x58);
      assertEquals(
          1,
          g.vm.signalMsi(
              msiTo(0, 0, 0x59).withFlags(KvmConstants.KVM_MSI_VALID_DEVID).withDevid(7)));
      handled(g, 0x59);

      assertEquals(1, g.vm.signalMsi(msiTo(0, 0, 0x5a | LEVEL))); // level: TMR set
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x5a), g.run());
      assertEquals(0x04, g.t.vcpu.getLapic()[0x1a3] & 0x04); // TMR bit 0x5a (register 2, bit 26)
      assertEquals(new VcpuExit.IoOut(0x81, 1, 0x5a), g.run());
      g.runUntilHalted();

      assertEquals(0, g.vm.signalMsi(msiTo(0, 0, 0x0e))); // vectors 0-15 are illegal
      g.setLapicRegister(0xf0, 0xff); // SPIV: the APIC software-disabled
      assertEquals(0, g.vm.signalMsi(msiTo(0, 0, 0x58)));
    }
  }

  @Test
  void anNmiMessageRunsTheNmiHandlerWhateverItsVectorAndIf() {
    try (IrqGuest g = IrqGuest.create().handler(0x02).handler(0x58)) {
      g.runUntilHalted();
      assertEquals(0, g.vm.signalMsi(msiTo(1, 0, NMI | 0x58))); // no APIC 1
      assertEquals(1, g.vm.signalMsi(msiTo(0, 0, NMI | 0x58)));
      handled(g, 0x02); // vector 2, not 0x58
      assertEquals(1, g.vm.signalMsi(msiTo(0xff, 0, NMI))); // physical broadcast
      handled(g, 0x02);
    }
  }

  @Test
  void signalMsiErrnos() {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      assertEquals(1, vm.checkExtension(KvmConstants.KVM_CAP_SIGNAL_MSI));
      assertErrno(Errno.EINVAL, () -> vm.signalMsi(msiTo(0, 0, 0x58))); // no irqchip
      vm.createIrqchip();
      assertEquals(0, vm.signalMsi(msiTo(0, 0, 0x58))); // no vCPU: no destination
      assertErrno(Errno.EINVAL, () -> vm.signalMsi(msiTo(0, 0, 0x58).withFlags(2)));
      assertErrno(Errno.EFAULT, () -> vm.signalMsi(null));
      vm.close();
      assertErrno(Errno.EBADF, () -> vm.signalMsi(msiTo(0, 0, 0x58)));
    }
  }

  /** Pins 17 (0x50), 18 (0x60) and 19 (0x70), each with a reporting handler. */
  private static IrqGuest threePins() {
    return IrqGuest.create(17, 0x50, 18, 0x60, 19, 0x70)
        .handler(0x50)
        .handler(0x60)
        .handler(0x70)
        .handler(0x58);
  }

  private static void pulse(VmFd vm, int gsi) {
    vm.irqLine(gsi, 1);
    vm.irqLine(gsi, 0);
  }

  @Test
  void aNewTableMovesAGsiAndRoutesMsisForIrqLineAndIrqfds() {
    int efd = Eventfd.create();
    try (IrqGuest g = threePins()) {
      g.runUntilHalted();
      pulse(g.vm, 17); // the default table: GSI 17 is pin 17
      handled(g, 0x50);
      g.vm.setGsiRouting(List.of(irqchip(17, KVM_IRQCHIP_IOAPIC, 18), msi(100, MSI_BASE, 0, 0x58)));
      pulse(g.vm, 19); // GSI 19 has no route any more: nothing, else 0x70 would come first
      pulse(g.vm, 17);
      handled(g, 0x60); // GSI 17 is pin 18 now
      pulse(g.vm, 100); // an MSI route sends its message when raised, not when lowered
      handled(g, 0x58);
      g.vm.irqfd(KvmIrqfd.ZERO.withFd(efd).withGsi(100)); // an irqfd on an MSI route sends it
      Eventfd.signal(efd);
      handled(g, 0x58);
      g.vm.irqfd(KvmIrqfd.ZERO.withFd(efd).withGsi(17).deassign()); // other GSI: stays
      g.vm.setGsiRouting(List.of(irqchip(100, KVM_IRQCHIP_IOAPIC, 19))); // the irqfd follows
      Eventfd.signal(efd);
      handled(g, 0x70);
      g.vm.setGsiRouting(List.of()); // no route at all
      pulse(g.vm, 17);
      pulse(g.vm, 18);
      Eventfd.signal(efd);
      assertEquals(1, g.vm.signalMsi(msiTo(0, 0, 0x50))); // the only interrupt that comes
      handled(g, 0x50);
    } finally {
      Fds.close(efd);
    }
  }

  @Test
  void aResamplingIrqfdOnAnMsiRouteSendsTheMsiAndIsNeverResampled() {
    int efd = Eventfd.create();
    int resample = Eventfd.create();
    try (IrqGuest g = threePins()) {
      g.runUntilHalted();
      g.vm.setGsiRouting(List.of(msi(40, MSI_BASE, 0, 0x58 | LEVEL)));
      g.vm.irqfd(KvmIrqfd.ZERO.withFd(efd).withGsi(40).withResample(resample)); // KVM takes it
      for (int i = 0; i < 2; i++) {
        Eventfd.signal(efd);
        handled(g, 0x58); // each signal sends the message; the EOI has no input to resample
        assertEquals(0, Eventfd.drain(resample));
      }
    } finally {
      Fds.close(efd);
      Fds.close(resample);
    }
  }

  @Test
  void aFailedTableLeavesTheOldOne() {
    try (IrqGuest g = threePins()) {
      g.runUntilHalted();
      g.vm.setGsiRouting(List.of(irqchip(17, KVM_IRQCHIP_IOAPIC, 19)));
      assertErrno(
          Errno.EINVAL,
          () ->
              g.vm.setGsiRouting(
                  List.of(
                      irqchip(17, KVM_IRQCHIP_IOAPIC, 18), irqchip(18, KVM_IRQCHIP_IOAPIC, 24))));
      pulse(g.vm, 17);
      handled(g, 0x70);
    }
  }

  @Test
  void setGsiRoutingErrnos() {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      assertEquals(
          KvmConstants.KVM_MAX_IRQ_ROUTES, kvm.checkExtension(KvmConstants.KVM_CAP_IRQ_ROUTING));
      assertEquals(4096, vm.checkExtension(KvmConstants.KVM_CAP_IRQ_ROUTING));
      assertErrno(Errno.EINVAL, () -> vm.setGsiRouting(List.of())); // no irqchip
      vm.createIrqchip();
      assertErrno(Errno.EFAULT, () -> vm.setGsiRouting(null));
      assertErrno(Errno.EFAULT, () -> vm.setGsiRouting(Arrays.asList(irqchip(0, 2, 0), null)));
      List<KvmIrqRoutingEntry> max = new ArrayList<>();
      for (int gsi = 0; gsi < 4096; gsi++) {
        max.add(msi(gsi, MSI_BASE, 0, 0x50));
      }
      vm.setGsiRouting(max); // KVM_MAX_IRQ_ROUTES entries, GSIs up to 4095
      max.add(msi(0, MSI_BASE, 0, 0x50));
      assertErrno(Errno.EINVAL, () -> vm.setGsiRouting(max)); // one more
      assertErrno(Errno.EINVAL, () -> vm.setGsiRouting(List.of(irqchip(4096, 2, 0))));
      assertErrno(Errno.EINVAL, () -> vm.setGsiRouting(List.of(irqchip(-1, 2, 0))));
      assertErrno(
          Errno.EINVAL, () -> vm.setGsiRouting(List.of(irqchip(1, 2, 0).withFlags(1)))); // flags
      assertErrno(
          Errno.EINVAL, () -> vm.setGsiRouting(List.of(msi(1, MSI_BASE, 0, 0x50).withFlags(2))));
      vm.setGsiRouting(
          List.of(msi(1, MSI_BASE, 0, 0x50).withFlags(KvmConstants.KVM_MSI_VALID_DEVID)));
      assertErrno(Errno.EINVAL, () -> vm.setGsiRouting(List.of(irqchip(1, 3, 0)))); // no chip 3
      assertErrno(Errno.EINVAL, () -> vm.setGsiRouting(List.of(irqchip(1, -1, 0))));
      assertErrno(
          Errno.EINVAL, () -> vm.setGsiRouting(List.of(irqchip(1, KVM_IRQCHIP_PIC_MASTER, 8))));
      assertErrno(
          Errno.EINVAL, () -> vm.setGsiRouting(List.of(irqchip(1, KVM_IRQCHIP_PIC_SLAVE, 8))));
      assertErrno(
          Errno.EINVAL, () -> vm.setGsiRouting(List.of(irqchip(1, KVM_IRQCHIP_IOAPIC, 24))));
      assertErrno(
          Errno.EINVAL, () -> vm.setGsiRouting(List.of(irqchip(1, KVM_IRQCHIP_IOAPIC, -1))));
      assertErrno(
          Errno.EINVAL,
          () ->
              vm.setGsiRouting(
                  List.of(irqchip(1, KVM_IRQCHIP_IOAPIC, 1), irqchip(1, KVM_IRQCHIP_IOAPIC, 2))));
      assertErrno(
          Errno.EINVAL,
          () ->
              vm.setGsiRouting(
                  List.of(irqchip(1, KVM_IRQCHIP_IOAPIC, 1), msi(1, MSI_BASE, 0, 0x50))));
      assertErrno(
          Errno.EINVAL,
          () ->
              vm.setGsiRouting(
                  List.of(msi(1, MSI_BASE, 0, 0x50), irqchip(1, KVM_IRQCHIP_IOAPIC, 1))));
      assertErrno(
          Errno.EINVAL,
          () -> vm.setGsiRouting(List.of(msi(1, MSI_BASE, 0, 0x50), msi(1, MSI_BASE, 0, 0x51))));
      // One GSI on the master PIC, the slave PIC and the I/O APIC: one route per irqchip is fine.
      vm.setGsiRouting(
          List.of(
              irqchip(1, KVM_IRQCHIP_PIC_MASTER, 1),
              irqchip(1, KVM_IRQCHIP_PIC_SLAVE, 7),
              irqchip(1, KVM_IRQCHIP_IOAPIC, 23)));
      vm.close();
      assertErrno(Errno.EBADF, () -> vm.setGsiRouting(List.of()));
    }
  }
}
