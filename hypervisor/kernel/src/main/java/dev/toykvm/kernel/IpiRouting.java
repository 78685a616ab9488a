package dev.toykvm.kernel;

import dev.toykvm.kernel.irq.Ipi;
import dev.toykvm.kernel.irq.TriggerMode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where an IPI goes and what it does there (Intel SDM vol. 3A 11.6.1-11.6.2; KVM's
 * kvm_irq_delivery_to_apic and __apic_accept_irq).
 *
 * <p>Destinations: a shorthand (self, all including self, all excluding self) ignores the
 * destination field; without one, each local APIC matches it in physical mode (its ID, or 0xff for
 * all) or logical mode (flat or cluster model, from its DFR and LDR). Modes: fixed sets the
 * vector's IRR bit on every target; lowest priority on one target chosen by vector hashing ({@link
 * #lowestPriority}); NMI latches an NMI; INIT (unless it is the level de-assert: level 0 with
 * trigger level, which CPUs since the Pentium 4 ignore) puts the target in the INIT state; start-up
 * sends the vector to a target waiting for SIPI. SMI and the reserved modes are dropped (logged
 * once). Delivery is immediate, so ICR's delivery status always reads idle.
 */
final class IpiRouting {
  private static final Logger log = LoggerFactory.getLogger(IpiRouting.class);
  private static volatile boolean loggedDropped;

  private IpiRouting() {}

  static void deliver(int from, Ipi ipi, Collection<VcpuIrq> all) {
    List<VcpuIrq> targets = targets(from, ipi, all);
    switch (ipi.deliveryMode()) {
      case FIXED -> {
        for (VcpuIrq t : targets) {
          t.acceptFixed(ipi.vector(), TriggerMode.EDGE);
        }
      }
      case LOWEST_PRIORITY -> {
        VcpuIrq t = lowestPriority(ipi.vector(), targets);
        if (t != null) {
          t.acceptFixed(ipi.vector(), TriggerMode.EDGE);
        }
      }
      case NMI -> targets.forEach(VcpuIrq::nmi);
      case INIT -> {
        if (ipi.level() || ipi.trigger() == TriggerMode.EDGE) {
          targets.forEach(VcpuIrq::init);
        }
      }
      case STARTUP -> targets.forEach(t -> t.sipi(ipi.vector()));
      case SMI, RESERVED, EXTINT -> {
        if (!loggedDropped) {
          loggedDropped = true;
          log.info("IPI {} dropped: SMI, ExtINT and the reserved mode are not delivered", ipi);
        }
      }
    }
  }

  /**
   * The one target of a lowest-priority interrupt among the APICs its destination names (in vCPU id
   * order), as KVM chooses by default ({@code vector_hashing=Y}, {@code kvm_vector_to_index}): of
   * the n enabled ones (hardware and software), the one at index {@code vector mod n}, so that
   * different vectors spread over the CPUs and one vector always goes to the same CPU. Null if none
   * is enabled: the interrupt is dropped, as KVM drops it.
   */
  static VcpuIrq lowestPriority(int vector, List<VcpuIrq> named) {
    List<VcpuIrq> enabled = new ArrayList<>(named.size());
    for (VcpuIrq v : named) {
      if (v.apicEnabled()) {
        enabled.add(v);
      }
    }
    return enabled.isEmpty() ? null : enabled.get(vector % enabled.size());
  }

  /** The local APICs an IPI addresses, in vCPU id order. */
  static List<VcpuIrq> targets(int from, Ipi ipi, Collection<VcpuIrq> all) {
    List<VcpuIrq> targets = new ArrayList<>();
    for (VcpuIrq v : all) {
      boolean self = v.id() == from;
      boolean hit =
          switch (ipi.shorthand()) {
            case SELF -> self;
            case ALL_INCLUDING_SELF -> true;
            case ALL_EXCLUDING_SELF -> !self;
            case NONE -> v.matches(ipi.destination(), ipi.destMode());
          };
      if (hit) {
        targets.add(v);
      }
    }
    targets.sort(Comparator.comparingInt(VcpuIrq::id));
    return targets;
  }
}
