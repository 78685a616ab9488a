package dev.toykvm.vmm.pci;

import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.KvmIrqfd;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Poll;
import dev.toykvm.posix.PosixException;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MSI-X vectors of one PCI function whose messages a device process sends by writing one edge
 * eventfd per vector: each vector gets a GSI of its own from the {@link GsiTable}, and while it can
 * send (MSI-X enabled, the function not masked, its entry not masked) its GSI is routed as the MSI
 * its {@link MsixTable} entry holds and its eventfd is assigned to the GSI ({@code KVM_IRQFD}), so
 * the kernel side delivers each write with no VMM thread involved.
 *
 * <p>While a vector cannot send, its irqfd is deassigned: a write then stays in the eventfd's
 * counter, which is the vector's pending bit (the PBA bit reads 1 while the eventfd is readable,
 * checked with {@code poll}, never read). Assigning the irqfd again on unmask makes the kernel side
 * deliver a counter that is already non-zero at once (as KVM's {@code irqfd} does), once however
 * many writes it holds, as a pending bit holds one message. A message written while MSI-X is
 * disabled stays pending the same way and is delivered on enable (a spurious interrupt at worst,
 * never a lost one). An entry written while the vector can send moves its route at once.
 *
 * <p>The function's MSI-X enable and function mask bits are read from its configuration space by
 * {@link #configChanged()}, which the function's owner calls after each configuration write (cheap
 * when nothing changed). An address outside the local APICs' window (0xfeexxxxx) is routed anyway
 * and logged once: the kernel side, as KVM's {@code kvm_set_msi_irq}, reads only its destination
 * and mode bits, so the message arrives as if it were in the window. A route or irqfd the kernel
 * side refuses is logged, and the vector stays silent until its entry or mask changes again.
 * Without an irqchip nothing is ever assigned: every message stays pending.
 *
 * <p>Thread-safe. Lock order: the function's, this, the table's, the {@link GsiTable}'s. The
 * eventfds belong to the caller (the device process's launcher), which closes them after {@link
 * #close()}.
 */
public final class MsixVectors implements MsixTable.Listener, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(MsixVectors.class);

  private static final long WINDOW_MASK = 0xffff_ffff_fff0_0000L;
  private static final long WINDOW = 0xfee0_0000L;

  private final String name;
  private final VmFd vm;
  private final GsiTable gsis;
  private final PciDevice function;
  private final int capability;
  private final MsixTable table;
  private final int[] eventfds;
  private final int[] gsi;
  private final boolean[] assigned;
  private boolean enabled;
  private boolean functionMasked;
  private boolean closed;
  private boolean saidOutsideWindow;
  private boolean saidNoIrqchip;
  private long failures;

  /**
   * Takes a GSI per vector from {@code gsis} and listens to {@code table}. Nothing is routed or
   * assigned until MSI-X is enabled ({@link #configChanged()}).
   *
   * @param name the function's name in messages
   * @param function the function, with an MSI-X capability at {@code capability} ({@link
   *     MsixCapability#add})
   * @param table its MSI-X table, with as many vectors as the capability
   * @param eventfds vector v's edge eventfd at index v
   * @throws IllegalArgumentException if the counts of the capability, table and eventfds differ
   * @throws IllegalStateException if the table runs out of GSIs (none is kept)
   */
  public MsixVectors(
      String name,
      VmFd vm,
      GsiTable gsis,
      PciDevice function,
      int capability,
      MsixTable table,
      int[] eventfds) {
    int capVectors = (function.readConfig(capability + 2, 2) & 0x7ff) + 1;
    if (function.readConfig(capability, 1) != MsixCapability.ID
        || capVectors != table.vectors()
        || eventfds.length != table.vectors()) {
      throw new IllegalArgumentException(
          "cannot route the MSI-X vectors of %s: capability at 0x%x (id 0x%x, %d vectors), table of %d, %d eventfds"
              .formatted(
                  name,
                  capability,
                  function.readConfig(capability, 1),
                  capVectors,
                  table.vectors(),
                  eventfds.length));
    }
    this.name = name;
    this.vm = vm;
    this.gsis = gsis;
    this.function = function;
    this.capability = capability;
    this.table = table;
    this.eventfds = eventfds.clone();
    this.gsi = new int[eventfds.length];
    this.assigned = new boolean[eventfds.length];
    int taken = 0;
    try {
      for (; taken < gsi.length; taken++) {
        gsi[taken] = gsis.allocate();
      }
    } catch (RuntimeException e) {
      for (int i = 0; i < taken; i++) {
        gsis.release(gsi[i]);
      }
      throw e;
    }
    table.listen(this);
  }

  /** The GSI of vector {@code v} (its irqfd's, and its MSI route's). */
  public int gsi(int v) {
    return gsi[v];
  }

  /** Whether vector {@code v}'s eventfd is assigned to its GSI now. */
  public synchronized boolean assigned(int v) {
    return assigned[v];
  }

  /**
   * Reads the function's MSI-X enable and function mask bits and brings every vector in line. Call
   * after each configuration write to the function, from its {@link PciDevice#configWritten} (so
   * under the function's lock, which orders the calls as the writes; the function's lock comes
   * before this one).
   */
  public void configChanged() {
    int control = function.readConfig(capability + 2, 2);
    boolean nowEnabled = (control & MsixCapability.CONTROL_ENABLE) != 0;
    boolean nowMasked = (control & MsixCapability.CONTROL_FUNCTION_MASK) != 0;
    synchronized (this) {
      if (closed || nowEnabled == enabled && nowMasked == functionMasked) {
        return;
      }
      enabled = nowEnabled;
      functionMasked = nowMasked;
      log.debug("msix: {}: enabled {}, function mask {}", name, enabled, functionMasked);
      for (int v = 0; v < gsi.length; v++) {
        sync(v);
      }
    }
  }

  @Override
  public synchronized void entryChanged(int vector) {
    if (!closed) {
      sync(vector);
    }
  }

  /** The PBA bit: the vector cannot send and its eventfd holds a message. */
  @Override
  public boolean pending(int vector) {
    synchronized (this) {
      if (assigned[vector] || closed) {
        return false;
      }
    }
    try {
      return Poll.poll(eventfds[vector], 0).readable();
    } catch (PosixException e) {
      return false;
    }
  }

  /** Routes and assigns, or deassigns, vector {@code v} as its state says (under the lock). */
  private void sync(int v) {
    MsixTable.Entry e = table.entry(v);
    boolean send = enabled && !functionMasked && !e.masked();
    if (!gsis.irqchip()) {
      if (send && !saidNoIrqchip) {
        saidNoIrqchip = true;
        log.info("msix: {}'s messages go nowhere: no irqchip", name);
      }
      return;
    }
    try {
      if (!send) {
        if (assigned[v]) {
          vm.irqfd(new KvmIrqfd(eventfds[v], gsi[v], 0, 0).deassign());
          assigned[v] = false;
        }
        return;
      }
      if ((e.address() & WINDOW_MASK) != WINDOW && !saidOutsideWindow) {
        saidOutsideWindow = true;
        log.warn(
            "msix: {}: vector {} sends to 0x{}, outside the local APICs' window 0xfee00000-0xfeefffff:"
                + " routed anyway, as if it were in the window (said once)",
            name,
            v,
            Long.toHexString(e.address()));
      }
      gsis.setMsi(gsi[v], e.address(), e.data());
      if (!assigned[v]) {
        vm.irqfd(new KvmIrqfd(eventfds[v], gsi[v], 0, 0));
        assigned[v] = true;
      }
    } catch (KvmException | IllegalArgumentException ex) {
      if (failures++ == 0) {
        log.error(
            "msix: {}: vector {} (GSI {}) stays silent: {}", name, v, gsi[v], ex.getMessage());
      }
    }
  }

  /**
   * Deassigns every irqfd and gives the GSIs (and their routes) back. Idempotent. The eventfds stay
   * open (their owner closes them).
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    table.listen(null);
    for (int v = 0; v < gsi.length; v++) {
      try {
        if (assigned[v]) {
          assigned[v] = false;
          vm.irqfd(new KvmIrqfd(eventfds[v], gsi[v], 0, 0).deassign());
        }
        gsis.release(gsi[v]);
      } catch (KvmException e) {
        log.debug("msix: {}: vector {} at close: {}", name, v, e.getMessage());
      }
    }
  }

  @Override
  public String toString() {
    return "MsixVectors[" + name + ", GSIs " + Arrays.toString(gsi) + "]";
  }
}
