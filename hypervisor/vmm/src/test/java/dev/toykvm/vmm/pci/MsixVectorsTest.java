package dev.toykvm.vmm.pci;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmIrqRoutingEntry;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Poll;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * MSI-X on the real kernel side: a hand-made function with an MSI-X capability of two vectors, its
 * table, and an eventfd per vector written as a device process would; what reaches the local APIC
 * is read with {@code KVM_GET_LAPIC} (its IRR).
 */
@Timeout(60)
class MsixVectorsTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final int VECTORS = 2;
  private static final long MSI = 0xfee0_0000L;

  /** A function whose configuration writes reach its vectors, as the lead's function will. */
  static final class MsixFunction extends PciDevice {
    final int capability;
    MsixVectors vectors;

    MsixFunction(int vectors) {
      super(
          "fake",
          PciDeviceTest.ID,
          false,
          new Bar[] {null, null, null, null, Bar.memory32(MsixTable.BAR_SIZE)},
          1);
      capability = MsixCapability.add(this, vectors, 4, 0, 4, MsixTable.PBA_OFFSET);
    }

    @Override
    protected void configWritten(int offset, int size) {
      if (vectors != null) {
        vectors.configChanged();
      }
    }

    void control(int bits) {
      writeConfig(capability + 2, 2, bits);
    }
  }

  private final Kvm kvm = Kvm.open();
  private final VmFd vm = kvm.createVm();
  private final int[] fds = {Eventfd.create(), Eventfd.create()};
  private final MsixFunction function = new MsixFunction(VECTORS);
  private final MsixTable table = new MsixTable("fake", VECTORS);
  private VcpuFd vcpu;
  private GsiTable gsis;
  private MsixVectors vectors;

  private void start() {
    vm.createIrqchip();
    vcpu = vm.createVcpu(0);
    MsixKernel.enableApic(vcpu);
    gsis = new GsiTable(vm, true);
    vectors = new MsixVectors("fake", vm, gsis, function, function.capability, table, fds);
    function.vectors = vectors;
  }

  @AfterEach
  void close() {
    if (vectors != null) {
      vectors.close();
    }
    vm.close();
    kvm.close();
    for (int fd : fds) {
      Fds.close(fd);
    }
  }

  /** Entry {@code v}: fixed, to APIC 0, {@code vector}, masked or not. */
  private void entry(int v, int vector, boolean masked) {
    table.write(16L * v, 8, MSI);
    table.write(16L * v + 8, 8, (masked ? 1L : 0L) << 32 | vector);
  }

  private long pba() {
    return table.read(MsixTable.PBA_OFFSET, 8);
  }

  private boolean readable(int v) {
    return Poll.poll(fds[v], 0).readable();
  }

  private void delivered(int vector) {
    await().atMost(WAIT).until(() -> MsixKernel.requested(vcpu, vector));
  }

  @Test
  void anEnabledUnmaskedVectorReachesTheLapicWithTheTablesVector() {
    start();
    entry(0, 0x61, false);
    entry(1, 0x62, false);
    function.control(MsixCapability.CONTROL_ENABLE);
    assertTrue(vectors.assigned(0) && vectors.assigned(1));
    assertEquals(
        KvmIrqRoutingEntry.msi(vectors.gsi(0), (int) MSI, 0, 0x61),
        gsis.entries().get(40),
        "vector 0's GSI routed from its entry");
    Eventfd.signal(fds[1]);
    delivered(0x62);
    assertFalse(MsixKernel.requested(vcpu, 0x61));
    Eventfd.signal(fds[0]);
    delivered(0x61);
    await().atMost(WAIT).until(() -> !readable(0) && !readable(1));
    assertEquals(0, pba());
  }

  @Test
  void aMaskedVectorIsPendingAndDeliveredOnceOnUnmask() {
    start();
    entry(0, 0x61, true);
    function.control(MsixCapability.CONTROL_ENABLE);
    assertFalse(vectors.assigned(0));
    Eventfd.signal(fds[0]);
    Eventfd.signal(fds[0]);
    assertEquals(1, pba(), "the PBA bit: the eventfd holds the message");
    assertTrue(readable(0), "the PBA read did not consume it");
    assertFalse(MsixKernel.requested(vcpu, 0x61));

    table.write(12, 4, 0); // unmask
    assertTrue(vectors.assigned(0));
    delivered(0x61);
    await().atMost(WAIT).until(() -> !readable(0));
    assertEquals(0, pba());
  }

  @Test
  void theFunctionMaskHoldsEveryVector() {
    start();
    entry(0, 0x61, false);
    entry(1, 0x62, false);
    function.control(MsixCapability.CONTROL_ENABLE | MsixCapability.CONTROL_FUNCTION_MASK);
    assertFalse(vectors.assigned(0) || vectors.assigned(1));
    Eventfd.signal(fds[0]);
    Eventfd.signal(fds[1]);
    assertEquals(3, pba());
    assertFalse(MsixKernel.requested(vcpu, 0x61) || MsixKernel.requested(vcpu, 0x62));

    function.control(MsixCapability.CONTROL_ENABLE);
    delivered(0x61);
    delivered(0x62);
    await().atMost(WAIT).until(() -> pba() == 0);
  }

  @Test
  void msixDisabledSendsNothing() {
    start();
    entry(0, 0x61, false);
    assertFalse(vectors.assigned(0), "MSI-X is off after reset");
    Eventfd.signal(fds[0]);
    assertTrue(readable(0));
    assertFalse(MsixKernel.requested(vcpu, 0x61));
    assertEquals(40, gsis.entries().size(), "no route either");

    function.control(MsixCapability.CONTROL_ENABLE);
    function.control(0); // and off again: deassigned
    assertFalse(vectors.assigned(0));
  }

  @Test
  void anEntryChangedWhileUnmaskedMovesTheRoute() {
    start();
    entry(0, 0x61, false);
    function.control(MsixCapability.CONTROL_ENABLE);
    table.write(8, 4, 0x63);
    assertEquals(
        KvmIrqRoutingEntry.msi(vectors.gsi(0), (int) MSI, 0, 0x63), gsis.entries().get(40));
    Eventfd.signal(fds[0]);
    delivered(0x63);
    assertFalse(MsixKernel.requested(vcpu, 0x61));
  }

  /**
   * As KVM's {@code kvm_set_msi_irq}, the kernel side reads only the destination and mode bits of
   * the address: the message arrives as if it were in the window.
   */
  @Test
  void anAddressOutsideTheApicWindowIsRoutedAnyway() {
    start();
    table.write(0, 8, 0xfed0_0000L);
    table.write(8, 8, 0x61);
    function.control(MsixCapability.CONTROL_ENABLE);
    assertTrue(vectors.assigned(0));
    assertEquals(
        KvmIrqRoutingEntry.msi(vectors.gsi(0), 0xfed00000, 0, 0x61), gsis.entries().get(40));
    Eventfd.signal(fds[0]);
    delivered(0x61);
  }

  @Test
  void closeDeassignsAndGivesTheGsisBack() {
    start();
    entry(0, 0x61, false);
    function.control(MsixCapability.CONTROL_ENABLE);
    int gsi = vectors.gsi(0);
    vectors.close();
    assertFalse(vectors.assigned(0));
    assertEquals(GsiTable.kvmDefault(), gsis.entries());
    Eventfd.signal(fds[0]);
    assertTrue(readable(0), "no irqfd reads it any more");
    assertEquals(gsi, gsis.allocate(), "its GSI is free again");
    vectors = null;
  }

  @Test
  void theCountsMustAgree() {
    start();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new MsixVectors(
                    "fake", vm, gsis, function, function.capability, table, new int[] {fds[0]}));
    assertTrue(e.getMessage().startsWith("cannot route the MSI-X vectors of fake"), e.getMessage());
  }

  @Test
  void withoutAnIrqchipEveryMessageStaysPending() {
    FakeVm rec = new FakeVm();
    GsiTable none = new GsiTable(rec.fd, false);
    vectors = new MsixVectors("fake", rec.fd, none, function, function.capability, table, fds);
    function.vectors = vectors;
    entry(0, 0x61, false);
    function.control(MsixCapability.CONTROL_ENABLE);
    Eventfd.signal(fds[0]);
    assertEquals(1, pba());
    assertEquals(List.of(), rec.irqfds);
    assertEquals(List.of(), rec.tables);
  }
}
