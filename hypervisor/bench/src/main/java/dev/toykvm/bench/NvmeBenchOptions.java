package dev.toykvm.bench;

import dev.toykvm.vmm.DeviceSpec;
import java.nio.file.Path;
import java.util.List;

/**
 * What one {@code toykvm bench nvme} run measures: every route x placement x completion mode, each
 * a fresh boot of nvmetest in bench mode.
 *
 * @param count 4 KiB reads timed one by one at queue depth 1
 * @param warmup unmeasured reads before them
 * @param qd the deeper queue depth (2-63)
 * @param qdCount reads at depth {@code qd}, timed as a whole
 * @param placements where to run, in order
 * @param routes where BAR0 is served
 * @param irqs how the guest waits for completions
 * @param deferCqDoorbell whether the guest rings a CQ head doorbell with the next SQ tail doorbell
 *     rather than after each completion (nvmetest's {@code cq_doorbell=deferred}; not with INTx)
 * @param chart where to write the PNG, or null for none
 */
record NvmeBenchOptions(
    long count,
    long warmup,
    int qd,
    long qdCount,
    List<Placement> placements,
    List<DeviceSpec.Route> routes,
    List<NvmeIrq> irqs,
    boolean deferCqDoorbell,
    Path chart) {

  /** nvmetest's counters are u32; the deltas must fit in guest RAM (4 bytes each). */
  static final long MAX_COUNT = 4_000_000;

  /** nvmetest's I/O queues have 64 entries: at most 63 outstanding. */
  static final int MAX_QD = 63;

  /**
   * @throws IllegalArgumentException if a number is out of range or a list is empty
   */
  NvmeBenchOptions {
    if (count < 1 || count > MAX_COUNT || warmup < 0 || warmup > MAX_COUNT) {
      throw new IllegalArgumentException(
          "--count is 1 to " + MAX_COUNT + " and --warmup 0 to " + MAX_COUNT);
    }
    if (qd < 2 || qd > MAX_QD) {
      throw new IllegalArgumentException("--qd is 2 to " + MAX_QD + ", not " + qd);
    }
    if (qdCount < 1 || qdCount > 0xffff_ffffL) {
      throw new IllegalArgumentException("the reads at depth qd are 1 to 2^32-1");
    }
    if (placements.isEmpty() || routes.isEmpty() || irqs.isEmpty()) {
      throw new IllegalArgumentException(
          "nothing to measure: a placement, route or irq list is empty");
    }
    if (deferCqDoorbell && irqs.contains(NvmeIrq.INTX)) {
      throw new IllegalArgumentException(
          "--cq-doorbell=deferred cannot go with --irq intx: the controller keeps INTx asserted"
              + " until the CQ head doorbell says every completion was consumed");
    }
    placements = List.copyOf(placements);
    routes = List.copyOf(routes);
    irqs = List.copyOf(irqs);
  }
}
