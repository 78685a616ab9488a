package dev.toykvm.vmm.pci;

import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmIrqRoutingEntry;
import dev.toykvm.kvm.VmFd;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The VM's live GSI routing table, the one {@code KVM_SET_GSI_ROUTING} installs whole: KVM's
 * default routes for GSIs 0-23 ({@code kvm_setup_default_irq_routing}: GSIs 0-15 to the 8259s, IRQ
 * n, and to I/O APIC pin n; GSIs 16-23 to I/O APIC pin n), then one MSI route per GSI that has one:
 * the static routes of {@code --device ...,msi=} and the routes of PCI functions' MSI-X vectors,
 * which change while the guest runs.
 *
 * <p>{@link #allocate()} hands out GSIs from {@link #FIRST_DYNAMIC} up, never one {@link #reserve
 * reserved} (every GSI a {@code --device} option names) or already handed out. {@link #setMsi} and
 * {@link #remove} install the whole table again, only when it changed; until the first MSI route
 * nothing is installed, so the VM keeps KVM's own default table. Without an irqchip there is no
 * table to install: the routes are kept here and go nowhere, said once in the log.
 *
 * <p>Thread-safe: configuration and MSI-X table writes come from any vCPU thread. The table is
 * installed under the lock, so the kernel side sees the tables in the order of the changes.
 */
public final class GsiTable {
  private static final Logger log = LoggerFactory.getLogger(GsiTable.class);

  /** GSIs 0..15 reach the 8259s and the I/O APIC, 16..23 the I/O APIC only. */
  public static final int ISA_GSIS = 16;

  /** The I/O APIC's pins, GSIs 0..23 in the default table. */
  public static final int IOAPIC_PINS = 24;

  /** The first GSI {@link #allocate()} may hand out (and the first an MSI route may take). */
  public static final int FIRST_DYNAMIC = IOAPIC_PINS;

  /** One past the last GSI ({@code KVM_MAX_IRQ_ROUTES}). */
  public static final int LIMIT = KvmConstants.KVM_MAX_IRQ_ROUTES;

  private final VmFd vm;
  private final boolean irqchip;
  private final BitSet reserved = new BitSet(LIMIT);
  private final BitSet allocated = new BitSet(LIMIT);
  private final Map<Integer, KvmIrqRoutingEntry.Msi> msis = new TreeMap<>();
  private List<KvmIrqRoutingEntry> installed; // null: KVM's default, never replaced
  private boolean saidNoIrqchip;
  private int installs;

  /**
   * @param irqchip whether the VM has the in-kernel irqchip ({@link VmFd#createIrqchip()}); without
   *     one nothing is ever installed
   */
  public GsiTable(VmFd vm, boolean irqchip) {
    this.vm = vm;
    this.irqchip = irqchip;
  }

  /** KVM's default table, in KVM's order (per GSI: I/O APIC, then the PIC). */
  public static List<KvmIrqRoutingEntry> kvmDefault() {
    List<KvmIrqRoutingEntry> table = new ArrayList<>();
    for (int gsi = 0; gsi < IOAPIC_PINS; gsi++) {
      table.add(KvmIrqRoutingEntry.irqchip(gsi, KvmConstants.KVM_IRQCHIP_IOAPIC, gsi));
      if (gsi < ISA_GSIS) {
        int pic =
            gsi < 8 ? KvmConstants.KVM_IRQCHIP_PIC_MASTER : KvmConstants.KVM_IRQCHIP_PIC_SLAVE;
        table.add(KvmIrqRoutingEntry.irqchip(gsi, pic, gsi % 8));
      }
    }
    return table;
  }

  /** Whether the VM has an irqchip (irqfds and routes mean something). */
  public boolean irqchip() {
    return irqchip;
  }

  /**
   * Keeps {@code gsi} from {@link #allocate()}: a GSI a {@code --device} option names (its lines or
   * its {@code msi=} routes).
   *
   * @throws IllegalArgumentException if {@code gsi} is not 0..4095, or was handed out already
   */
  public synchronized void reserve(int gsi) {
    check(gsi, 0);
    if (allocated.get(gsi)) {
      throw new IllegalArgumentException(
          "cannot reserve GSI " + gsi + ": it was handed out to a PCI function already");
    }
    reserved.set(gsi);
  }

  /**
   * Hands out the lowest GSI from {@link #FIRST_DYNAMIC} up that is neither reserved nor handed out
   * already; it has no route until {@link #setMsi}.
   *
   * @throws IllegalStateException if every GSI up to 4095 is taken
   */
  public synchronized int allocate() {
    BitSet taken = (BitSet) reserved.clone();
    taken.or(allocated);
    int gsi = taken.nextClearBit(FIRST_DYNAMIC);
    if (gsi >= LIMIT) {
      throw new IllegalStateException(
          "cannot allocate a GSI: every GSI from "
              + FIRST_DYNAMIC
              + " to "
              + (LIMIT - 1)
              + " is taken");
    }
    allocated.set(gsi);
    return gsi;
  }

  /**
   * Gives back a GSI from {@link #allocate()}, removing its route (an installed table changes).
   *
   * @throws IllegalArgumentException if it was not handed out
   */
  public synchronized void release(int gsi) {
    check(gsi, FIRST_DYNAMIC);
    if (!allocated.get(gsi)) {
      throw new IllegalArgumentException("cannot release GSI " + gsi + ": it was not handed out");
    }
    remove(gsi);
    allocated.clear(gsi);
  }

  /**
   * Routes {@code gsi} as the MSI {@code address}/{@code data} (replacing its route, if any) and
   * installs the table if that changed it. The address is taken as given (the kernel side, as KVM,
   * reads only its destination and mode bits).
   *
   * @throws IllegalArgumentException if {@code gsi} is below {@link #FIRST_DYNAMIC} (the I/O APIC's
   *     pins keep their default routes) or not below 4096
   * @throws dev.toykvm.kvm.KvmException if the kernel side refuses the table (the route is not
   *     kept)
   */
  public synchronized void setMsi(int gsi, long address, int data) {
    check(gsi, FIRST_DYNAMIC);
    KvmIrqRoutingEntry.Msi route =
        KvmIrqRoutingEntry.msi(gsi, (int) address, (int) (address >>> 32), data);
    KvmIrqRoutingEntry.Msi old = msis.put(gsi, route);
    if (route.equals(old)) {
      return;
    }
    try {
      install();
    } catch (RuntimeException e) {
      if (old == null) {
        msis.remove(gsi);
      } else {
        msis.put(gsi, old);
      }
      throw e;
    }
  }

  /**
   * Removes {@code gsi}'s MSI route, if it has one, and installs the table if that changed it.
   *
   * @throws dev.toykvm.kvm.KvmException if the kernel side refuses the table (the route is kept)
   */
  public synchronized void remove(int gsi) {
    KvmIrqRoutingEntry.Msi old = msis.remove(gsi);
    if (old == null) {
      return;
    }
    try {
      install();
    } catch (RuntimeException e) {
      msis.put(gsi, old);
      throw e;
    }
  }

  /** Whether {@code gsi} is routed as an MSI now. */
  public synchronized boolean isMsi(int gsi) {
    return msis.containsKey(gsi);
  }

  /** The table as it would be installed now: KVM's default, then the MSI routes by GSI. */
  public synchronized List<KvmIrqRoutingEntry> entries() {
    List<KvmIrqRoutingEntry> table = kvmDefault();
    table.addAll(msis.values());
    return List.copyOf(table);
  }

  /** How many times the table was installed ({@code KVM_SET_GSI_ROUTING} calls), for tests. */
  public synchronized int installs() {
    return installs;
  }

  private void install() {
    List<KvmIrqRoutingEntry> table = entries();
    if (installed == null && msis.isEmpty() || table.equals(installed)) {
      return;
    }
    if (!irqchip) {
      if (!saidNoIrqchip) {
        saidNoIrqchip = true;
        log.info("gsi: the MSI routes go nowhere: no irqchip");
      }
      return;
    }
    vm.setGsiRouting(table);
    installed = table;
    installs++;
    log.debug("gsi: routing table of {} entries installed", table.size());
  }

  private static void check(int gsi, int first) {
    if (gsi < first || gsi >= LIMIT) {
      throw new IllegalArgumentException(
          "cannot route GSI " + gsi + ": it is not " + first + ".." + (LIMIT - 1));
    }
  }
}
