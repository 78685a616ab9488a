package dev.toykvm.kernel;

import dev.toykvm.ioregionfd.channel.PostedBatch;
import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.kvm.VcpuExit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One vCPU's posted writes to ioregions: they go out in batches ({@link PostedBatch}), when the
 * batch is full, when the oldest write is due, when the guest loops without writing ({@link
 * SpinWatch}), and before anything else the guest could use to observe the device. The last write
 * added is remembered, to name it in the {@code IoregionfdFailure} exit if its batch cannot be
 * sent.
 */
final class PostedWrites implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PostedWrites.class);
  private static final Logger trace = LoggerFactory.getLogger("toykvm.trace");

  private final int vcpuId;
  private final PostedBatch batch;
  private final VcpuLink vcpu;
  // The last posted write added to the batch.
  private KernelIoBus.Region lastRegion;
  private boolean lastPio;
  private long lastAddress;
  private int lastSize;
  private long lastData;
  private final SpinWatch spin;

  /**
   * A vCPU's posted writes: a batch that waits at most {@code timeoutNanos} for room in a pipe
   * (interrupted by the kick eventfd {@code kickFd}), the loops of {@code guest} watched.
   */
  static PostedWrites of(
      int vcpuId, int kickFd, long timeoutNanos, VcpuLink vcpu, StringIo.Guest guest) {
    return new PostedWrites(
        vcpuId,
        new PostedBatch(kickFd, timeoutNanos),
        vcpu,
        new SpinWatch(
            () -> {
              vcpu.stats().count(VcpuStats.Counter.SPIN_YIELDS);
              Thread.yield();
            },
            SpinWatch.probe(guest)));
  }

  /** With {@code spin} watching the guest's loops. */
  PostedWrites(int vcpuId, PostedBatch batch, VcpuLink vcpu, SpinWatch spin) {
    this.vcpuId = vcpuId;
    this.batch = batch;
    this.vcpu = vcpu;
    this.spin = spin;
  }

  /** Adds a posted write of {@code data} to {@code address} (inside {@code r}) to the batch. */
  void add(KernelIoBus.Region r, boolean pio, long address, int size, long data) {
    if (!batch.accepts(r.writeFd)) {
      flush();
    }
    spin.writeAdded();
    vcpu.stats().count(VcpuStats.Counter.POSTED_WRITES);
    long offset = address - r.start;
    batch.add(r.writeFd, IoregionCommand.write(r.userData, offset, size, data, false), r);
    lastRegion = r;
    lastPio = pio;
    lastAddress = address;
    lastSize = size;
    lastData = data;
    if (trace.isTraceEnabled()) {
      trace.trace(
          "[vcpu{}] ioregionfd {} write {}=0x{} size={} data 0x{} (user_data={}, cmd fd {},"
              + " posted)",
          vcpuId,
          pio ? "pio" : "mmio",
          pio ? "port" : "addr",
          Long.toHexString(address),
          size,
          Long.toHexString(data),
          r.userData,
          r.writeFd);
    }
    if (batch.full()) {
      flush();
    }
  }

  /** Whether no write waits. */
  boolean isEmpty() {
    return batch.isEmpty();
  }

  /**
   * At the start of the translation block at {@code address} of {@code size} bytes (while the block
   * gate is raised), {@code now} its time: sends the batch if it is due ({@link PostedBatch#due})
   * or if the guest loops without writing ({@link SpinWatch}); if that loop is a spin-wait (it has
   * a {@code pause}), lets the device have the CPU while the guest spins. Returns whether the next
   * block start must be seen too.
   */
  boolean atBlock(long now, long address, int size) {
    if (batch.isEmpty()) {
      return spin.atBlock(now, address, size);
    }
    boolean loops = spin.loopsBack(address, size);
    if (!loops && !batch.due(now)) {
      return true;
    }
    boolean stopped = loops || batch.idle(now);
    if (loops) {
      vcpu.stats().count(VcpuStats.Counter.POSTED_FLUSHES_AT_LOOP);
    }
    flush();
    if (stopped && batch.isEmpty()) {
      spin.stopped(now, loops, address);
    }
    return !batch.isEmpty() || spin.watching();
  }

  /**
   * Sends the waiting writes, if any. Can wait (a full pipe): a kick then leaves run() with Intr
   * and the next run() goes on; a failure is reported as an IoregionfdFailure exit for the last
   * posted write, and the guest goes on after it.
   */
  void flush() {
    if (!batch.isEmpty()) {
      vcpu.stats().count(VcpuStats.Counter.POSTED_BATCHES);
    }
    while (!batch.isEmpty()) {
      switch (batch.flush()) {
        case DONE -> {
          return;
        }
        case INTERRUPTED -> {
          if (vcpu.kicked()) {
            vcpu.consumeKick();
            vcpu.exitToVmm(new VcpuExit.Intr());
          } else {
            vcpu.consumeKick(); // a stale wake-up from a kick already consumed
          }
        }
        case FAILED -> {
          log.debug("vcpu{}: posted writes failed: {}", vcpuId, batch.failure());
          vcpu.exitToVmm(
              new VcpuExit.IoregionfdFailure(
                  lastAddress,
                  lastSize,
                  true,
                  lastData,
                  lastPio,
                  lastRegion.start,
                  lastRegion.size,
                  AccessRouter.errno(batch.failureErrno()),
                  batch.failure(),
                  vcpu.completion()));
          return;
        }
      }
    }
  }

  @Override
  public void close() {
    batch.close();
  }
}
