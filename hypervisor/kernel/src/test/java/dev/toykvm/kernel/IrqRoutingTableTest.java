package dev.toykvm.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.toykvm.kernel.IrqRoutingTable.ChipRoute;
import dev.toykvm.kernel.IrqRoutingTable.MsiRoute;
import dev.toykvm.kernel.IrqRoutingTable.Route;
import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmIrqRoutingEntry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * {@link IrqRoutingTable} against a model of KVM's {@code kvm_set_irq_routing} rules: a list is
 * refused with {@code EINVAL} exactly when one of the rules is broken, and an accepted table routes
 * each GSI as its entries say and maps each controller input to the last GSI routed to it.
 */
class IrqRoutingTableTest {

  @Provide
  Arbitrary<List<KvmIrqRoutingEntry>> tables() {
    Arbitrary<Integer> gsi =
        Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(20, Arbitraries.integers().between(0, 6)),
            net.jqwik.api.Tuple.of(1, Arbitraries.of(4095, 4096, -1, Integer.MIN_VALUE)));
    Arbitrary<Integer> flags =
        Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(30, Arbitraries.just(0)),
            net.jqwik.api.Tuple.of(1, Arbitraries.of(1, 2, 3)));
    Arbitrary<KvmIrqRoutingEntry> chip =
        Combinators.combine(
                gsi,
                flags,
                Arbitraries.frequencyOf(
                    net.jqwik.api.Tuple.of(10, Arbitraries.integers().between(0, 2)),
                    net.jqwik.api.Tuple.of(1, Arbitraries.of(3, -1))),
                Arbitraries.frequencyOf(
                    net.jqwik.api.Tuple.of(10, Arbitraries.integers().between(0, 7)),
                    net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(8, 23)),
                    net.jqwik.api.Tuple.of(1, Arbitraries.of(24, -1))))
            .as(KvmIrqRoutingEntry.Irqchip::new);
    Arbitrary<KvmIrqRoutingEntry> msi =
        Combinators.combine(gsi, flags, Arbitraries.integers(), Arbitraries.integers())
            .as((g, f, address, data) -> new KvmIrqRoutingEntry.Msi(g, f, address, 0, data, 0));
    return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(4, chip), net.jqwik.api.Tuple.of(1, msi))
        .list()
        .ofMaxSize(12);
  }

  /** The model: null if KVM accepts the list, else why not. */
  static String modelRefusal(List<KvmIrqRoutingEntry> entries) {
    Map<Integer, List<KvmIrqRoutingEntry>> byGsi = new HashMap<>();
    for (KvmIrqRoutingEntry e : entries) {
      if (e.gsi() < 0 || e.gsi() >= KvmConstants.KVM_MAX_IRQ_ROUTES) {
        return "gsi";
      }
    }
    for (KvmIrqRoutingEntry e : entries) {
      List<KvmIrqRoutingEntry> same = byGsi.computeIfAbsent(e.gsi(), k -> new ArrayList<>());
      switch (e) {
        case KvmIrqRoutingEntry.Irqchip c -> {
          if (c.flags() != 0) {
            return "flags";
          }
          for (KvmIrqRoutingEntry o : same) {
            if (!(o instanceof KvmIrqRoutingEntry.Irqchip oc) || oc.irqchip() == c.irqchip()) {
              return "shared gsi";
            }
          }
          int pins = c.irqchip() == 2 ? 24 : 8;
          if (c.irqchip() < 0 || c.irqchip() > 2) {
            return "chip";
          }
          if (c.pin() < 0 || c.pin() >= pins) {
            return "pin";
          }
        }
        case KvmIrqRoutingEntry.Msi m -> {
          if ((m.flags() & ~1) != 0) {
            return "flags";
          }
          if (!same.isEmpty()) {
            return "shared gsi";
          }
        }
      }
      same.add(e);
    }
    return null;
  }

  @Property(tries = 2000)
  void acceptsExactlyWhatKvmAcceptsAndRoutesAsTheEntriesSay(
      @ForAll("tables") List<KvmIrqRoutingEntry> entries) {
    String refusal = modelRefusal(entries);
    net.jqwik.api.statistics.Statistics.collect(refusal == null ? "accepted" : refusal);
    net.jqwik.api.statistics.Statistics.label("accepted")
        .collect(refusal == null)
        .coverage(c -> c.check(true).percentage(p -> p > 10));
    if (refusal != null) {
      KvmException e = assertThrows(KvmException.class, () -> IrqRoutingTable.of(entries));
      assertEquals(Errno.EINVAL, e.errno(), refusal + ": " + e.getMessage());
      return;
    }
    IrqRoutingTable table = IrqRoutingTable.of(entries);
    Map<Integer, List<Route>> expected = new HashMap<>();
    int[][] gsiOf = new int[3][24];
    for (int[] row : gsiOf) {
      java.util.Arrays.fill(row, -1);
    }
    int highest = -1;
    for (KvmIrqRoutingEntry e : entries) {
      highest = Math.max(highest, e.gsi());
      Route r =
          switch (e) {
            case KvmIrqRoutingEntry.Irqchip c -> {
              int pin = c.irqchip() == KvmConstants.KVM_IRQCHIP_PIC_SLAVE ? c.pin() + 8 : c.pin();
              gsiOf[c.irqchip()][pin] = c.gsi();
              yield new ChipRoute(c.irqchip(), pin);
            }
            case KvmIrqRoutingEntry.Msi m -> new MsiRoute(m.addressLo(), m.addressHi(), m.data());
          };
      expected.computeIfAbsent(e.gsi(), k -> new ArrayList<>()).add(r);
    }
    assertEquals(highest + 1, table.size());
    for (int gsi = -1; gsi <= highest + 1; gsi++) {
      assertArrayEquals(
          expected.getOrDefault(gsi, List.of()).toArray(), table.routes(gsi), "gsi " + gsi);
    }
    for (int chip = 0; chip < 3; chip++) {
      for (int pin = 0; pin < (chip == 2 ? 24 : 16); pin++) {
        assertEquals(gsiOf[chip][pin], table.gsiOf(chip, pin), "chip " + chip + " pin " + pin);
      }
    }
  }

  @Test
  void theDefaultTableIsKvms() {
    IrqRoutingTable t = IrqRoutingTable.defaults();
    assertEquals(24, t.size());
    for (int gsi = 0; gsi < 24; gsi++) {
      List<Route> routes = new ArrayList<>();
      if (gsi < 16) {
        routes.add(new ChipRoute(gsi < 8 ? 0 : 1, gsi));
        assertEquals(gsi, t.gsiOf(gsi < 8 ? 0 : 1, gsi));
      }
      routes.add(new ChipRoute(2, gsi));
      assertArrayEquals(routes.toArray(), t.routes(gsi));
      assertEquals(gsi, t.gsiOf(2, gsi));
    }
    assertEquals(0, t.routes(24).length);
    assertEquals(0, t.routes(-1).length);
  }

  @Test
  void nullsAreEfault() {
    assertEquals(
        Errno.EFAULT, assertThrows(KvmException.class, () -> IrqRoutingTable.of(null)).errno());
    List<KvmIrqRoutingEntry> withNull = new ArrayList<>();
    withNull.add(null);
    assertEquals(
        Errno.EFAULT, assertThrows(KvmException.class, () -> IrqRoutingTable.of(withNull)).errno());
  }
}
