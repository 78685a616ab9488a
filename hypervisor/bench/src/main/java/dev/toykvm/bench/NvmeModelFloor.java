package dev.toykvm.bench;

import dev.toykvm.devices.GuestMemory;
import dev.toykvm.devices.nvme.NvmeConfig;
import dev.toykvm.devices.nvme.NvmeController;
import dev.toykvm.devices.nvme.NvmeDisk;
import dev.toykvm.devices.pci.PciInterrupts;
import dev.toykvm.devices.pci.PciState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;

/**
 * The floors under a QD1 read, measured in this JVM with no guest: the NVMe model alone (a host
 * driver in Java writes the command, rings the doorbell with {@link NvmeController#write}, which
 * runs the read and posts the completion, then takes the completion and rings the CQ head
 * doorbell), and the 4 KiB {@code pread} of the disk file under it ({@link NvmeDisk#read}).
 *
 * <p>The driver's memory is a plain array; the register offsets and the queue entry layouts are the
 * NVMe 1.4 specification's (CC 0x14, AQA 0x24, ASQ 0x28, ACQ 0x30, doorbells from 0x1000 with
 * CAP.DSTRD = 0; 64-byte commands, 16-byte completions with the phase tag in bit 16 of dword 3).
 */
final class NvmeModelFloor {
  private NvmeModelFloor() {}

  /**
   * @param model a whole read through the model: submission to completion taken, CQ doorbell rung
   * @param pread the 4 KiB read of the disk file alone
   */
  record Floors(Histogram model, Histogram pread) {}

  private static final int RAM = 1 << 20;
  private static final long ASQ = 0x1000;
  private static final long ACQ = 0x2000;
  private static final long IOSQ = 0x10000;
  private static final long IOCQ = 0x20000;
  private static final long DATA = 0x40000;
  private static final int ENTRIES = 64;
  private static final int READ_BLOCKS = 8;

  /** Guest memory as a little-endian array. */
  private static final class ArrayMemory implements GuestMemory {
    final ByteBuffer ram = ByteBuffer.allocate(RAM).order(ByteOrder.LITTLE_ENDIAN);

    @Override
    public boolean read(long addr, byte[] dst) {
      if (addr < 0 || addr + dst.length > RAM) {
        return false;
      }
      ram.get((int) addr, dst);
      return true;
    }

    @Override
    public boolean write(long addr, byte[] src) {
      if (addr < 0 || addr + src.length > RAM) {
        return false;
      }
      ram.put((int) addr, src);
      return true;
    }
  }

  /** The host side of one admin or I/O queue pair. */
  private static final class Queue {
    final long sq;
    final long cq;
    final int qid;
    int tail;
    int head;
    boolean phase = true;

    Queue(int qid, long sq, long cq) {
      this.qid = qid;
      this.sq = sq;
      this.cq = cq;
    }
  }

  private static final class Driver {
    final ArrayMemory mem = new ArrayMemory();
    final NvmeController ctrl;
    int cid;

    Driver(NvmeDisk disk) {
      ctrl = new NvmeController(NvmeConfig.of(1), disk, mem, PciInterrupts.NONE);
      ctrl.pciState(new PciState(true, true, false, false));
      ctrl.write(0x24, 4, (ENTRIES - 1) << 16 | (ENTRIES - 1));
      ctrl.write(0x28, 8, ASQ);
      ctrl.write(0x30, 8, ACQ);
      ctrl.write(0x14, 4, 1 | 6 << 16 | 4 << 20); // EN, IOSQES 64 bytes, IOCQES 16 bytes
      if ((ctrl.read(0x1c, 4) & 1) == 0) {
        throw new BenchException("cannot enable the NVMe model: CSTS.RDY stays 0");
      }
    }

    /** Submits one command, rings, takes its completion: its status (0: success). */
    int exec(Queue q, int opcode, int nsid, long prp1, int cdw10, int cdw11, int cdw12) {
      ByteBuffer r = mem.ram;
      int at = (int) (q.sq + 64L * q.tail);
      for (int i = 0; i < 64; i += 8) {
        r.putLong(at + i, 0);
      }
      cid = (cid + 1) & 0xffff;
      r.putInt(at, opcode | cid << 16);
      r.putInt(at + 4, nsid);
      r.putLong(at + 24, prp1);
      r.putInt(at + 40, cdw10);
      r.putInt(at + 44, cdw11);
      r.putInt(at + 48, cdw12);
      q.tail = (q.tail + 1) % ENTRIES;
      ctrl.write(0x1000 + 8L * q.qid, 4, q.tail);
      int cqe = (int) (q.cq + 16L * q.head);
      int dw3 = r.getInt(cqe + 12);
      if (((dw3 >>> 16) & 1) != (q.phase ? 1 : 0)) {
        throw new BenchException("cannot measure the NVMe model: no completion for command " + cid);
      }
      q.head = (q.head + 1) % ENTRIES;
      if (q.head == 0) {
        q.phase = !q.phase;
      }
      ctrl.write(0x1000 + 8L * q.qid + 4, 4, q.head);
      return (dw3 >>> 17) & 0x7ff;
    }
  }

  /**
   * Measures {@code count} QD1 4 KiB random reads through the model and as many bare preads of
   * {@code disk}, after {@code warmup} of each.
   *
   * @throws BenchException if the model refuses a command
   * @throws UncheckedIOException if the disk cannot be opened or read
   */
  static Floors measure(Path disk, long count, long warmup) {
    try (NvmeDisk d = NvmeDisk.open(disk, OptionalLong.empty())) {
      Driver h = new Driver(d);
      Queue admin = new Queue(0, ASQ, ACQ);
      Queue io = new Queue(1, IOSQ, IOCQ);
      check(h.exec(admin, 0x05, 0, IOCQ, (ENTRIES - 1) << 16 | 1, 1, 0), "Create I/O CQ");
      check(h.exec(admin, 0x01, 0, IOSQ, (ENTRIES - 1) << 16 | 1, 1 << 16 | 1, 0), "Create I/O SQ");
      long slots = d.blocks() / READ_BLOCKS;
      SplittableRandom rng = new SplittableRandom(42);
      Histogram model = Measurement.newHistogram();
      Histogram pread = Measurement.newHistogram();
      byte[] buf = new byte[READ_BLOCKS * NvmeDisk.BLOCK_SIZE];
      for (long i = 0; i < warmup + count; i++) {
        long lba = rng.nextLong(slots) * READ_BLOCKS;
        long t0 = System.nanoTime();
        int status = h.exec(io, 0x02, 1, DATA, (int) lba, (int) (lba >>> 32), READ_BLOCKS - 1);
        long t1 = System.nanoTime();
        check(status, "Read");
        if (i >= warmup) {
          model.recordValue(Math.max(1, t1 - t0));
        }
      }
      for (long i = 0; i < warmup + count; i++) {
        long lba = rng.nextLong(slots) * READ_BLOCKS;
        long t0 = System.nanoTime();
        d.read(lba, buf);
        long t1 = System.nanoTime();
        if (i >= warmup) {
          pread.recordValue(Math.max(1, t1 - t0));
        }
      }
      return new Floors(model, pread);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot measure the NVMe model on " + disk + ": " + e, e);
    }
  }

  private static void check(int status, String what) {
    if (status != 0) {
      throw new BenchException(
          "cannot measure the NVMe model: "
              + what
              + " failed with status 0x"
              + Integer.toHexString(status));
    }
  }
}
