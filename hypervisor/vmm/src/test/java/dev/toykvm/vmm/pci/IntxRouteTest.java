package dev.toykvm.vmm.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Where a function's INTx irqfd is registered, as the guest programs the PIIX3's PIRQ routes. */
@Timeout(60)
class IntxRouteTest {
  private static final int LEVEL = 40;
  private static final int RESAMPLE = 41;

  private final FakeVm vm = new FakeVm();
  private final GsiTable gsis = new GsiTable(vm.fd, true);
  private final IsaBridge isa = new IsaBridge();

  private void pirq(int pirq, int value) {
    isa.writeConfig(IsaBridge.PIRQ_ROUTE + pirq, 1, value);
  }

  @Test
  void theSwizzleIsSlotPlusPinMinusOneModFour() {
    assertEquals(3, IsaBridge.pirqOf(3, 1)); // 00:03.0 INTA# -> PIRQD
    assertEquals(0, IsaBridge.pirqOf(4, 1));
    assertEquals(1, IsaBridge.pirqOf(4, 2));
    assertEquals(2, IsaBridge.pirqOf(31, 4));
    assertThrows(IllegalArgumentException.class, () -> IsaBridge.pirqOf(3, 0));
    assertThrows(IllegalArgumentException.class, () -> IsaBridge.pirqOf(32, 1));
  }

  @Test
  void onlyTheIrqsThePiix3RoutesAreRoutes() {
    for (int irq = 0; irq < 16; irq++) {
      pirq(0, irq);
      boolean valid = List.of(3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15).contains(irq);
      assertEquals(valid ? OptionalInt.of(irq) : OptionalInt.empty(), isa.pirqIrq(0), "IRQ " + irq);
    }
    pirq(0, 0x8b);
    assertEquals(OptionalInt.empty(), isa.pirqIrq(0), "bit 7: disabled");
  }

  @Test
  void nothingIsRegisteredWhileTheRouteIsDisabled() {
    try (IntxRoute r = new IntxRoute("fake", vm.fd, gsis, isa, 3, 1, LEVEL, RESAMPLE)) {
      assertEquals(3, r.pirq());
      assertEquals(OptionalInt.empty(), r.gsi(), "PIRQRC reads 0x80 after reset");
      pirq(3, 0x80 | 11);
      pirq(3, 8); // not an IRQ the PIIX3 routes to
      assertEquals(List.of(), vm.irqfds);
    }
    assertEquals(List.of(), vm.irqfds);
  }

  @Test
  void aPirqChangeMovesTheIrqfd() {
    pirq(3, 11);
    IntxRoute r = new IntxRoute("fake", vm.fd, gsis, isa, 3, 1, LEVEL, RESAMPLE);
    assertEquals(OptionalInt.of(11), r.gsi());
    pirq(0, 5); // another PIRQ: nothing moves
    pirq(3, 11); // the same route: nothing moves
    isa.writeConfig(IsaBridge.PIRQ_ROUTE, 4, 0x0a_0b_0c_05); // PIRQD -> IRQ 10, in a dword
    assertEquals(OptionalInt.of(10), r.gsi());
    pirq(3, 0x80);
    assertEquals(OptionalInt.empty(), r.gsi());
    pirq(3, 15);
    r.close();
    r.close();
    pirq(3, 14); // closed: not followed any more
    assertEquals(
        List.of(
            "assign fd 40 gsi 11 resample 41",
            "deassign fd 40 gsi 11",
            "assign fd 40 gsi 10 resample 41",
            "deassign fd 40 gsi 10",
            "assign fd 40 gsi 15 resample 41",
            "deassign fd 40 gsi 15"),
        vm.irqfds);
  }

  @Test
  void withoutAnIrqchipNothingIsRegistered() {
    pirq(3, 11);
    GsiTable none = new GsiTable(vm.fd, false);
    try (IntxRoute r = new IntxRoute("fake", vm.fd, none, isa, 3, 1, LEVEL, RESAMPLE)) {
      pirq(3, 10);
      assertEquals(OptionalInt.empty(), r.gsi());
    }
    assertEquals(List.of(), vm.irqfds);
  }

  /** The real kernel side takes every move (no EBUSY: each deassign really removes the irqfd). */
  @Test
  void theKernelSideTakesTheMoves() {
    int level = Eventfd.create();
    int resample = Eventfd.create();
    try (Kvm kvm = Kvm.open();
        VmFd real = kvm.createVm()) {
      real.createIrqchip();
      GsiTable t = new GsiTable(real, true);
      pirq(0, 10);
      try (IntxRoute r = new IntxRoute("fake", real, t, isa, 4, 1, level, resample)) {
        assertEquals(OptionalInt.of(10), r.gsi());
        Eventfd.signal(level);
        pirq(0, 11);
        assertEquals(OptionalInt.of(11), r.gsi());
        pirq(0, 0x80);
        pirq(0, 10);
        assertEquals(OptionalInt.of(10), r.gsi());
      }
    } finally {
      Fds.close(level);
      Fds.close(resample);
    }
  }
}
