package dev.toykvm.kernel;

import dev.toykvm.ioregionfd.channel.PostedBatch;
import dev.toykvm.ioregionfd.wire.IoregionCommand;
import dev.toykvm.kvm.VcpuExit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One vCPU's posted writes to ioregions: they go out in batches ({@link PostedBatch}), when the
 * batch is full, when the oldest write is due, and before anything else the guest could use to
 * observe the device. The last write added is remembered, to name it in the {@code
 * IoregionfdFailure} exit if its batch cannot be sent.
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

  PostedWrites(int vcpuId, PostedBatch batch, VcpuLink vcpu) {
    this.vcpuId = vcpuId;
    this.batch = batch;
    this.vcpu = vcpu;
  }

  /** Adds a posted write of {@code data} to {@code address} (inside {@code r}) to the batch. */
  void add(KernelIoBus.Region r, boolean pio, long address, int size, long data) {
    if (!batch.accepts(r.writeFd)) {
      flush();
    }
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

  /** Sends the batch if its oldest write has waited long enough (checked at each block). */
  void flushIfDue(long now) {
    if (!batch.isEmpty() && batch.due(now)) {
      flush();
    }
  }

  /**
   * Sends the waiting writes, if any. Can wait (a full pipe): a kick then leaves run() with Intr
   * and the next run() goes on; a failure is reported as an IoregionfdFailure exit for the last
   * posted write, and the guest goes on after it.
   */
  void flush() {
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
