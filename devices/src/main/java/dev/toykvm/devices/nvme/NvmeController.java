package dev.toykvm.devices.nvme;

import static dev.toykvm.devices.nvme.NvmeRegisters.*;

import dev.toykvm.devices.BusDevice;
import dev.toykvm.devices.GuestMemory;
import dev.toykvm.devices.pci.PciInterrupts;
import dev.toykvm.devices.pci.PciState;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An NVMe controller with one namespace (NVM Express Base Specification 1.4), as BAR0 of a PCI
 * function: the controller registers at 0x0000-0x0fff and the doorbells from 0x1000 ({@link
 * NvmeRegisters}). The PCI function itself (configuration space, the MSI-X table in BAR4) lives in
 * the VMM; it tells the model the bits that matter with {@link #pciState}.
 *
 * <p><b>Registers.</b> Accesses of 4 bytes, and of 8 bytes (meant for the 64-bit registers CAP, ASQ
 * and ACQ; an aligned 8-byte write anywhere is its two 4-byte halves, low first). Reads of
 * undefined offsets and of doorbells return 0; other reads (1, 2 bytes, unaligned) return the bytes
 * they cover. Writes to read-only or undefined registers are ignored; writes of other sizes or
 * alignments are ignored and counted ({@link #oddAccesses}).
 *
 * <p><b>Enable and reset.</b> CC.EN 0 to 1 checks CC (NVM command set, 4 KiB pages, round robin,
 * IOSQES 6, IOCQES 4) and AQA/ASQ/ACQ (queues of 2 to 4096 entries, page-aligned bases): a bad
 * value sets CSTS.CFS and leaves RDY 0; otherwise the admin queues exist and RDY is 1 at once.
 * CC.EN 1 to 0 resets the controller: every queue, outstanding Asynchronous Event Request and
 * feature value is gone, CSTS is 0, INTx is deasserted. CC.SHN (normal or abrupt) flushes the disk
 * and reports CSTS.SHST complete; clearing it reports normal operation again.
 *
 * <p><b>Doorbells.</b> A submission queue tail write runs the new commands right in the write
 * (single-threaded: a posted write does not hold up the vCPU): fetch the 64-byte entry, execute,
 * post the 16-byte completion with the phase tag, then interrupt. Fetching stops while the
 * completion queue is full and resumes when its head doorbell frees an entry. A write to a queue
 * that does not exist, a tail past the queue's size or a head past the entries posted is ignored,
 * counted ({@link #invalidDoorbellWrites}) and reported as an Asynchronous Event of type Error
 * Status. Doorbell writes while the controller is not ready are ignored and counted too.
 *
 * <p><b>DMA</b> goes through {@link GuestMemory} and only while the PCI function is a bus master;
 * with bus mastering off, doorbells are recorded and the commands run when it comes back on. A
 * submission or completion queue entry that cannot be read or written (outside guest RAM) cannot be
 * reported in a completion queue: that is a controller fatal status (CSTS.CFS) until reset.
 *
 * <p><b>Interrupts</b> (after each access and each state change): with MSI-X enabled, one message
 * on the completion queue's vector per queue that got entries; otherwise, unless INTx is disabled
 * or masked with INTMS bit 0, INTx is asserted while any completion queue with interrupts enabled
 * holds entries the host has not released with its head doorbell.
 *
 * <p>Thread-safe (every entry point is synchronised), though a device process calls it from one
 * thread.
 */
public final class NvmeController implements BusDevice, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NvmeController.class);

  /** BAR0's size: registers, then the doorbells. */
  public static final int BAR0_SIZE = 0x4000;

  private static final int SHST_MASK = 3 << 2;

  private final NvmeConfig config;
  private final NvmeDisk disk;
  private final Dma dma;
  private final PciInterrupts irq;
  private final QueueTable queues;
  private final Features features;
  private final AsyncEvents events;
  private final ErrorLog errors = new ErrorLog();
  private final AdminCommands admin;
  private final IoCommands io;

  private PciState pci = PciState.RESET;
  private int cc;
  private int csts;
  private int aqa;
  private long asq;
  private long acq;
  private boolean intxMasked;
  private boolean intxAsserted;
  private boolean closed;

  private long oddAccesses;
  private long invalidDoorbellWrites;
  private long ignoredDoorbellWrites;

  /**
   * A controller after power-on: disabled, PCI state {@link PciState#RESET} (no DMA).
   *
   * @param disk the namespace's disk; the controller owns it from now on and closes it
   * @param dma guest RAM
   * @param irq where interrupts go
   */
  public NvmeController(NvmeConfig config, NvmeDisk disk, GuestMemory dma, PciInterrupts irq) {
    this.config = config;
    this.disk = disk;
    this.dma = new Dma(dma);
    this.irq = irq;
    queues = new QueueTable(config);
    features = new Features(config);
    IoCounters counters = new IoCounters();
    events = new AsyncEvents(this::completeAsyncEvent);
    admin = new AdminCommands(config, disk, this.dma, queues, features, events, counters, errors);
    io = new IoCommands(disk, this.dma, features, counters);
  }

  /** The configuration it was made with. */
  public NvmeConfig config() {
    return config;
  }

  @Override
  public synchronized long read(long offset, int size) {
    if (closed || offset < 0 || offset >= BAR0_SIZE || offset >= DOORBELLS) {
      return 0;
    }
    if (size == 4 && (offset & 3) == 0) {
      return Integer.toUnsignedLong(register((int) offset));
    }
    long v = 0;
    for (int i = 0; i < size; i++) {
      int at = (int) offset + i;
      v |= (long) ((register(at & ~3) >>> (8 * (at & 3))) & 0xff) << (8 * i);
    }
    return v;
  }

  @Override
  public synchronized void write(long offset, int size, long value) {
    if (closed) {
      return;
    }
    boolean aligned = offset >= 0 && (offset & 3) == 0 && offset <= BAR0_SIZE - size;
    if (aligned && size == 4) {
      store((int) offset, (int) value);
    } else if (aligned && size == 8) {
      store((int) offset, (int) value);
      store((int) offset + 4, (int) (value >>> 32));
    } else {
      if (oddAccesses++ == 0) {
        log.info(
            "NVMe: ignoring a {}-byte write at BAR0 offset 0x{}", size, Long.toHexString(offset));
      }
      return;
    }
    interrupts();
  }

  /**
   * The PCI function's configuration bits changed: bus mastering gates DMA (turning it on runs what
   * the doorbells asked meanwhile); MSI-X enabled selects MSI-X, otherwise INTx unless disabled.
   */
  public synchronized void pciState(PciState state) {
    if (closed) {
      return;
    }
    pci = state;
    dma.busMaster(state.busMaster());
    if (state.busMaster()) {
      resumeAll();
    }
    interrupts();
  }

  /** Register and doorbell writes of sizes or alignments the controller does not take. */
  public synchronized long oddAccesses() {
    return oddAccesses;
  }

  /** Doorbell writes to a queue that does not exist or with a value it cannot take. */
  public synchronized long invalidDoorbellWrites() {
    return invalidDoorbellWrites;
  }

  /** Doorbell writes while the controller was not ready (disabled or failed). */
  public synchronized long ignoredDoorbellWrites() {
    return ignoredDoorbellWrites;
  }

  /** Resets the controller, deasserts INTx and closes the disk; later accesses do nothing. */
  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    reset();
    interrupts();
    closed = true;
    disk.close();
  }

  // ---- registers ----

  private int register(int offset) {
    return switch (offset) {
      case CAP -> (int) CAP_VALUE;
      case CAP + 4 -> (int) (CAP_VALUE >>> 32);
      case VS -> VERSION;
      case INTMS, INTMC -> intxMasked ? 1 : 0;
      case CC -> cc;
      case CSTS -> csts;
      case AQA -> aqa;
      case ASQ -> (int) asq;
      case ASQ + 4 -> (int) (asq >>> 32);
      case ACQ -> (int) acq;
      case ACQ + 4 -> (int) (acq >>> 32);
      default -> 0;
    };
  }

  private void store(int offset, int value) {
    if (offset >= DOORBELLS) {
      doorbell(offset, value);
      return;
    }
    switch (offset) {
      case INTMS -> intxMasked |= (value & 1) != 0;
      case INTMC -> intxMasked &= (value & 1) == 0;
      case CC -> writeCc(value);
      case AQA -> aqa = value & 0x0fff_0fff;
      case ASQ -> asq = (asq & ~0xffff_ffffL) | Integer.toUnsignedLong(value);
      case ASQ + 4 -> asq = (asq & 0xffff_ffffL) | (long) value << 32;
      case ACQ -> acq = (acq & ~0xffff_ffffL) | Integer.toUnsignedLong(value);
      case ACQ + 4 -> acq = (acq & 0xffff_ffffL) | (long) value << 32;
      default -> {} // read-only or undefined
    }
  }

  private void writeCc(int value) {
    int old = cc;
    cc = value;
    boolean wasEnabled = (old & CC_EN) != 0;
    boolean enabled = (value & CC_EN) != 0;
    if (wasEnabled && !enabled) {
      reset();
    } else if (!wasEnabled && enabled) {
      enable();
    }
    if (ccShn(value) != 0 && ccShn(old) == 0) {
      shutdown();
    } else if (ccShn(value) == 0) {
      csts &= ~SHST_MASK;
    }
  }

  private void enable() {
    String problem = enableProblem();
    if (problem != null) {
      csts |= CSTS_CFS;
      log.warn("NVMe: cannot enable the controller: {}; CSTS.CFS set", problem);
      return;
    }
    queues.createAdmin(asq, (aqa & 0xfff) + 1, acq, ((aqa >>> 16) & 0xfff) + 1);
    csts |= CSTS_RDY;
  }

  /** Why CC, AQA, ASQ or ACQ cannot start the controller, or {@code null}. */
  private String enableProblem() {
    if (ccCss(cc) != 0) {
      return "CC.CSS %d is not the NVM command set".formatted(ccCss(cc));
    }
    if (ccMps(cc) != 0) {
      return "CC.MPS %d: only 4 KiB pages".formatted(ccMps(cc));
    }
    if (ccAms(cc) != 0) {
      return "CC.AMS %d: only round robin".formatted(ccAms(cc));
    }
    if (ccIosqes(cc) != 6 || ccIocqes(cc) != 4) {
      return "CC.IOSQES %d, IOCQES %d: entries are 2^6 and 2^4 bytes"
          .formatted(ccIosqes(cc), ccIocqes(cc));
    }
    if ((aqa & 0xfff) == 0 || (aqa & 0x0fff_0000) == 0) {
      return "AQA 0x%08x: admin queues need at least 2 entries".formatted(aqa);
    }
    if ((asq & 0xfff) != 0 || (acq & 0xfff) != 0) {
      return "ASQ 0x%x, ACQ 0x%x: not page-aligned".formatted(asq, acq);
    }
    return null;
  }

  /** Controller reset (CC.EN 1 to 0); the registers the host wrote stay. */
  private void reset() {
    queues.clear();
    features.reset();
    events.reset();
    intxMasked = false;
    csts = 0;
  }

  private void shutdown() {
    try {
      disk.flush();
    } catch (IOException e) {
      log.warn("NVMe: flushing the disk at shutdown failed: {}", e.toString());
    }
    csts = (csts & ~SHST_MASK) | CSTS_SHST_COMPLETE;
  }

  // ---- doorbells and queues ----

  private void doorbell(int offset, int value) {
    int index = (offset - DOORBELLS) / 4;
    int qid = index >>> 1;
    boolean completionHead = (index & 1) != 0;
    if ((csts & CSTS_RDY) == 0 || (csts & CSTS_CFS) != 0) {
      if (ignoredDoorbellWrites++ == 0) {
        log.info("NVMe: ignoring doorbell writes while the controller is not ready");
      }
      return;
    }
    long v = Integer.toUnsignedLong(value);
    if (completionHead) {
      CompletionQueue cq = queues.cq(qid);
      if (cq == null) {
        invalidDoorbell(AsyncEvents.INVALID_DOORBELL_REGISTER, "completion", qid, v);
      } else if (v >= cq.size || Math.floorMod((int) v - cq.head, cq.size) > cq.unconsumed()) {
        invalidDoorbell(AsyncEvents.INVALID_DOORBELL_VALUE, "completion", qid, v);
      } else {
        cq.head = (int) v;
        drain(cq);
        for (int id = 0; id <= queues.maxId(); id++) {
          SubmissionQueue sq = queues.sq(id);
          if (sq != null && sq.cq == cq) {
            process(sq);
          }
        }
      }
    } else {
      SubmissionQueue sq = queues.sq(qid);
      if (sq == null) {
        invalidDoorbell(AsyncEvents.INVALID_DOORBELL_REGISTER, "submission", qid, v);
      } else if (v >= sq.size) {
        invalidDoorbell(AsyncEvents.INVALID_DOORBELL_VALUE, "submission", qid, v);
      } else {
        sq.tail = (int) v;
        process(sq);
      }
    }
  }

  private void invalidDoorbell(int info, String kind, int qid, long value) {
    if (invalidDoorbellWrites++ == 0) {
      log.info("NVMe: invalid doorbell write {} to {} queue {}", value, kind, qid);
    }
    errors.doorbell(qid);
    events.raise(AsyncEvents.TYPE_ERROR, info, LogPages.ERROR_INFORMATION);
  }

  /** Runs the commands between the queue's head and tail, while its completion queue has room. */
  private void process(SubmissionQueue sq) {
    byte[] entry = new byte[Command.SIZE];
    while (!sq.empty() && (csts & CSTS_CFS) == 0 && dma.busMaster() && sq.cq.hasRoom()) {
      if (!dma.read(sq.headAddress(), entry)) {
        fatal("cannot fetch from submission queue %d at 0x%x".formatted(sq.id, sq.headAddress()));
        return;
      }
      sq.advance();
      Command c = Command.decode(entry);
      Completion done = sq.id == 0 ? admin.execute(c) : io.execute(c);
      if (done != null) {
        if (done.status() != NvmeStatus.SUCCESS) {
          errors.command(sq.id, c.cid(), done.status(), c.nsid());
        }
        post(sq.cq, sq.head, sq.id, c.cid(), done);
      }
    }
  }

  private void post(CompletionQueue cq, int sqHead, int sqId, int cid, Completion c) {
    cq.waiting.add(new CompletionQueue.Waiting(sqHead, sqId, cid, c));
    drain(cq);
  }

  /** Posts the completions waiting for room in {@code cq}, in order. */
  private void drain(CompletionQueue cq) {
    while (!cq.waiting.isEmpty() && !cq.full() && dma.busMaster() && (csts & CSTS_CFS) == 0) {
      CompletionQueue.Waiting w = cq.waiting.peek();
      if (!dma.write(cq.tailAddress(), cq.entry(w.sqHead(), w.sqId(), w.cid(), w.completion()))) {
        fatal("cannot post to completion queue %d at 0x%x".formatted(cq.id, cq.tailAddress()));
        return;
      }
      cq.waiting.poll();
      cq.advance();
      cq.notify = true;
    }
  }

  private void resumeAll() {
    for (int id = 0; id <= queues.maxId(); id++) {
      CompletionQueue cq = queues.cq(id);
      if (cq != null) {
        drain(cq);
      }
    }
    for (int id = 0; id <= queues.maxId(); id++) {
      SubmissionQueue sq = queues.sq(id);
      if (sq != null) {
        process(sq);
      }
    }
  }

  private void completeAsyncEvent(int cid, int dw0) {
    SubmissionQueue sq = queues.sq(0);
    post(queues.cq(0), sq.head, 0, cid, Completion.success(dw0));
  }

  private void fatal(String why) {
    csts |= CSTS_CFS;
    log.warn("NVMe: controller fatal status: {}", why);
  }

  // ---- interrupts ----

  private void interrupts() {
    boolean msix = pci.msixEnabled();
    boolean pending = false;
    for (int id = 0; id <= queues.maxId(); id++) {
      CompletionQueue cq = queues.cq(id);
      if (cq == null) {
        continue;
      }
      if (cq.interruptsEnabled) {
        if (cq.notify && msix) {
          irq.msix(cq.vector);
        }
        pending |= cq.unconsumed() > 0;
      }
      cq.notify = false;
    }
    boolean level = !msix && !pci.intxDisabled() && !intxMasked && pending;
    if (level != intxAsserted) {
      intxAsserted = level;
      irq.intx(level);
    }
  }
}
