package dev.toykvm.devices.nvme;

import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The NVM command set's I/O commands on namespace 1 (NVMe 1.4, "NVM Command Set"): Flush, Write,
 * Read and Write Zeroes. Others are Invalid Command Opcode.
 *
 * <p>Checks, in order: the namespace (NSID 1; Flush also takes FFFFFFFFh, every namespace) is
 * Invalid Namespace or Format; a transfer over MDTS (128 KiB) is Invalid Field in Command; blocks
 * past the namespace's end are LBA Out of Range; then the PRPs ({@link Prp}). A write reads the
 * whole buffer from the guest before the disk is touched, so a failed DMA writes nothing. Force
 * Unit Access, or the volatile write cache turned off, makes a write durable before it completes.
 */
final class IoCommands {
  private static final Logger log = LoggerFactory.getLogger(IoCommands.class);

  static final int FLUSH = 0x00;
  static final int WRITE = 0x01;
  static final int READ = 0x02;
  static final int WRITE_ZEROES = 0x08;

  private static final int FUA = 1 << 30;

  private final NvmeDisk disk;
  private final Dma dma;
  private final Features features;
  private final IoCounters counters;

  IoCommands(NvmeDisk disk, Dma dma, Features features, IoCounters counters) {
    this.disk = disk;
    this.dma = dma;
    this.features = features;
    this.counters = counters;
  }

  Completion execute(Command c) {
    if (c.fuse() != 0 || c.psdt() != 0) {
      return Completion.status(NvmeStatus.INVALID_FIELD);
    }
    int status =
        switch (c.opcode()) {
          case FLUSH -> flush(c);
          case WRITE -> readWrite(c, true);
          case READ -> readWrite(c, false);
          case WRITE_ZEROES -> writeZeroes(c);
          default -> NvmeStatus.INVALID_OPCODE;
        };
    return Completion.status(status);
  }

  private int flush(Command c) {
    if (c.nsid() != 1 && c.nsid() != -1) {
      return NvmeStatus.INVALID_NAMESPACE;
    }
    return sync();
  }

  private int readWrite(Command c, boolean write) {
    if (c.nsid() != 1) {
      return NvmeStatus.INVALID_NAMESPACE;
    }
    long lba = lba(c);
    int blocks = (c.cdw12() & 0xffff) + 1;
    int bytes = blocks * NvmeDisk.BLOCK_SIZE;
    if (bytes > Identify.MAX_TRANSFER) {
      return NvmeStatus.INVALID_FIELD;
    }
    if (!inside(lba, blocks)) {
      return NvmeStatus.LBA_OUT_OF_RANGE;
    }
    Prp prp = Prp.resolve(dma, c.prp1(), c.prp2(), bytes);
    if (prp.status() != NvmeStatus.SUCCESS) {
      return prp.status();
    }
    byte[] data = new byte[bytes];
    if (write) {
      int status = prp.fromGuest(dma, data);
      if (status != NvmeStatus.SUCCESS) {
        return status;
      }
      try {
        disk.write(lba, data);
      } catch (IOException e) {
        log.warn("NVMe write of blocks {}+{} failed: {}", lba, blocks, e.toString());
        return NvmeStatus.WRITE_FAULT;
      }
      counters.written(blocks);
      return durable(c);
    }
    try {
      disk.read(lba, data);
    } catch (IOException e) {
      log.warn("NVMe read of blocks {}+{} failed: {}", lba, blocks, e.toString());
      return NvmeStatus.UNRECOVERED_READ_ERROR;
    }
    counters.read(blocks);
    return prp.toGuest(dma, data);
  }

  private int writeZeroes(Command c) {
    if (c.nsid() != 1) {
      return NvmeStatus.INVALID_NAMESPACE;
    }
    long lba = lba(c);
    int blocks = (c.cdw12() & 0xffff) + 1;
    if (!inside(lba, blocks)) {
      return NvmeStatus.LBA_OUT_OF_RANGE;
    }
    try {
      disk.writeZeroes(lba, blocks);
    } catch (IOException e) {
      log.warn("NVMe write zeroes of blocks {}+{} failed: {}", lba, blocks, e.toString());
      return NvmeStatus.WRITE_FAULT;
    }
    return durable(c);
  }

  /** After a write: make it durable now if FUA is set or the write cache is off. */
  private int durable(Command c) {
    return (c.cdw12() & FUA) != 0 || !features.writeCache() ? sync() : NvmeStatus.SUCCESS;
  }

  private int sync() {
    try {
      disk.flush();
      return NvmeStatus.SUCCESS;
    } catch (IOException e) {
      log.warn("NVMe flush failed: {}", e.toString());
      return NvmeStatus.WRITE_FAULT;
    }
  }

  private static long lba(Command c) {
    return Integer.toUnsignedLong(c.cdw10()) | (long) c.cdw11() << 32;
  }

  private boolean inside(long lba, int blocks) {
    return lba >= 0 && lba <= disk.blocks() - blocks;
  }
}
