package dev.toykvm.devices.nvme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.toykvm.devices.ArrayGuestMemory;
import dev.toykvm.devices.pci.PciState;
import java.io.IOException;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * A tiny NVMe host driver over fake guest RAM: it lays out the queues, writes submission entries,
 * rings doorbells and reads completions with the phase tag, as a guest driver does.
 *
 * <pre>
 * 0x010000 admin SQ     0x020000 admin CQ
 * 0x100000 + q * 0x10000  I/O SQ q (up to 1024 entries)
 * 0x300000 + q * 0x4000   I/O CQ q
 * 0x400000 ...            data buffers (DATA)
 * </pre>
 */
final class HostDriver implements AutoCloseable {
  static final int RAM = 8 << 20;
  static final long ASQ = 0x10000;
  static final long ACQ = 0x20000;
  static final long DATA = 0x400000;
  static final int CC_ENABLE = 1 | 6 << 16 | 4 << 20;

  final ArrayGuestMemory mem = new ArrayGuestMemory(RAM);
  final RecordingInterrupts irq = new RecordingInterrupts();
  final NvmeDisk disk;
  final NvmeController ctrl;
  final int[] sqTail = new int[17];
  final int[] sqSize = new int[17];
  final int[] cqHead = new int[17];
  final int[] cqSize = new int[17];
  final boolean[] cqPhase = new boolean[17];
  private int nextCid = 1;

  HostDriver(NvmeConfig config, NvmeDisk disk) {
    this.disk = disk;
    this.ctrl = new NvmeController(config, disk, mem, irq);
  }

  /** A controller on a new disk file in {@code dir}, enabled, bus master, MSI-X on. */
  static HostDriver started(Path dir, int queues, long diskSize) throws IOException {
    NvmeDisk disk = NvmeDisk.open(dir.resolve("disk.img"), OptionalLong.of(diskSize));
    HostDriver h = new HostDriver(NvmeConfig.of(queues), disk);
    h.pci(true, true, false);
    h.enable(32, 32);
    assertEquals(1, h.reg32(NvmeRegisters.CSTS) & 1, "CSTS.RDY after enable");
    return h;
  }

  static long sqBase(int q) {
    return q == 0 ? ASQ : 0x100000 + q * 0x10000L;
  }

  static long cqBase(int q) {
    return q == 0 ? ACQ : 0x300000 + q * 0x4000L;
  }

  static Command cmd(int opcode, int nsid, long prp1, long prp2, int... cdw) {
    int[] d = new int[6];
    System.arraycopy(cdw, 0, d, 0, cdw.length);
    return new Command(opcode, 0, 0, 0, nsid, prp1, prp2, d[0], d[1], d[2], d[3], d[4], d[5]);
  }

  static Command withCid(Command c, int cid) {
    return new Command(
        c.opcode(),
        c.fuse(),
        c.psdt(),
        cid,
        c.nsid(),
        c.prp1(),
        c.prp2(),
        c.cdw10(),
        c.cdw11(),
        c.cdw12(),
        c.cdw13(),
        c.cdw14(),
        c.cdw15());
  }

  void pci(boolean busMaster, boolean msix, boolean intxDisabled) {
    ctrl.pciState(new PciState(busMaster, intxDisabled, msix, false));
  }

  int reg32(int offset) {
    return (int) ctrl.read(offset, 4);
  }

  void reg32(int offset, int value) {
    ctrl.write(offset, 4, Integer.toUnsignedLong(value));
  }

  /** Programs AQA/ASQ/ACQ and sets CC.EN with the usual CC. */
  void enable(int sqEntries, int cqEntries) {
    ctrl.write(NvmeRegisters.AQA, 4, (cqEntries - 1) << 16 | (sqEntries - 1));
    ctrl.write(NvmeRegisters.ASQ, 8, ASQ);
    ctrl.write(NvmeRegisters.ACQ, 8, ACQ);
    queueState(0, sqEntries, cqEntries);
    reg32(NvmeRegisters.CC, CC_ENABLE);
  }

  void disable() {
    reg32(NvmeRegisters.CC, 0);
  }

  void queueState(int q, int sqEntries, int cqEntries) {
    sqTail[q] = 0;
    sqSize[q] = sqEntries;
    cqHead[q] = 0;
    cqSize[q] = cqEntries;
    cqPhase[q] = true;
  }

  /** Writes {@code c} at queue {@code qid}'s tail with a fresh command id; no doorbell yet. */
  int submit(int qid, Command c) {
    int cid = nextCid++ & 0xffff;
    mem.put(sqBase(qid) + 64L * sqTail[qid], withCid(c, cid).encode());
    sqTail[qid] = (sqTail[qid] + 1) % sqSize[qid];
    return cid;
  }

  void ring(int qid) {
    reg32(NvmeRegisters.DOORBELLS + 8 * qid, sqTail[qid]);
  }

  /** The next completion in completion queue {@code cqid} (phase tag), or null; no doorbell. */
  Cqe poll(int cqid) {
    Cqe e = Cqe.decode(mem.get(cqBase(cqid) + 16L * cqHead[cqid], 16));
    if (e.phase() != cqPhase[cqid]) {
      return null;
    }
    cqHead[cqid] = (cqHead[cqid] + 1) % cqSize[cqid];
    if (cqHead[cqid] == 0) {
      cqPhase[cqid] = !cqPhase[cqid];
    }
    return e;
  }

  /** Tells the controller the entries read so far are consumed (CQ head doorbell). */
  void release(int cqid) {
    reg32(NvmeRegisters.DOORBELLS + 8 * cqid + 4, cqHead[cqid]);
  }

  /** Submits, rings, reads the one completion it must produce and releases it. */
  Cqe run(int qid, int cqid, Command c) {
    int cid = submit(qid, c);
    ring(qid);
    Cqe e = poll(cqid);
    assertNotNull(e, "no completion for command " + cid);
    assertEquals(cid, e.cid());
    assertEquals(qid, e.sqId());
    release(cqid);
    return e;
  }

  Cqe admin(Command c) {
    return run(0, 0, c);
  }

  Cqe io(int qid, Command c) {
    return run(qid, qid, c);
  }

  /** Create I/O Completion then Submission Queue {@code qid}, both asserted successful. */
  void createQueuePair(int qid, int entries, int vector) {
    Cqe cq =
        admin(
            cmd(
                AdminCommands.CREATE_IO_CQ,
                0,
                cqBase(qid),
                0,
                (entries - 1) << 16 | qid,
                vector << 16 | 3));
    assertEquals(NvmeStatus.SUCCESS, cq.status(), "create CQ " + qid);
    Cqe sq =
        admin(
            cmd(
                AdminCommands.CREATE_IO_SQ,
                0,
                sqBase(qid),
                0,
                (entries - 1) << 16 | qid,
                qid << 16 | 1));
    assertEquals(NvmeStatus.SUCCESS, sq.status(), "create SQ " + qid);
    queueState(qid, entries, entries);
  }

  /** Read or Write of {@code blocks} blocks at {@code lba} with a buffer described by PRPs. */
  static Command rw(int opcode, long lba, int blocks, long prp1, long prp2) {
    return cmd(opcode, 1, prp1, prp2, (int) lba, (int) (lba >>> 32), blocks - 1);
  }

  @Override
  public void close() throws IOException {
    ctrl.close();
  }
}
