package dev.toykvm.devices.nvme;

import static dev.toykvm.devices.nvme.AdminCommands.*;
import static dev.toykvm.devices.nvme.HostDriver.cmd;
import static dev.toykvm.devices.nvme.HostDriver.cqBase;
import static dev.toykvm.devices.nvme.HostDriver.sqBase;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NvmeQueuesTest {
  @TempDir Path dir;
  HostDriver h;

  @BeforeEach
  void setUp() throws IOException {
    h = HostDriver.started(dir, 2, 1 << 20);
  }

  @AfterEach
  void tearDown() throws IOException {
    h.close();
  }

  private int createCq(int qid, int entries, int flags, int vector, long base) {
    return h.admin(cmd(CREATE_IO_CQ, 0, base, 0, (entries - 1) << 16 | qid, vector << 16 | flags))
        .status();
  }

  private int createSq(int qid, int entries, int flags, int cqid, long base) {
    return h.admin(cmd(CREATE_IO_SQ, 0, base, 0, (entries - 1) << 16 | qid, cqid << 16 | flags))
        .status();
  }

  private static final Command FLUSH = cmd(IoCommands.FLUSH, 1, 0, 0);

  @Test
  void createCompletionQueueErrors() {
    assertEquals(NvmeStatus.INVALID_QUEUE_IDENTIFIER, createCq(0, 4, 3, 0, cqBase(1)));
    assertEquals(NvmeStatus.INVALID_QUEUE_IDENTIFIER, createCq(3, 4, 3, 0, cqBase(1)), "> 2");
    assertEquals(NvmeStatus.INVALID_QUEUE_SIZE, createCq(1, 1, 3, 0, cqBase(1)), "one entry");
    assertEquals(NvmeStatus.INVALID_QUEUE_SIZE, createCq(1, 1025, 3, 0, cqBase(1)), "> MQES");
    assertEquals(NvmeStatus.INVALID_FIELD, createCq(1, 4, 2, 0, cqBase(1)), "PC = 0");
    assertEquals(NvmeStatus.INVALID_PRP_OFFSET, createCq(1, 4, 3, 0, cqBase(1) + 64));
    assertEquals(NvmeStatus.INVALID_INTERRUPT_VECTOR, createCq(1, 4, 3, 3, cqBase(1)), "0-2");
    assertEquals(NvmeStatus.SUCCESS, createCq(1, 1024, 3, 2, cqBase(1)));
    assertEquals(NvmeStatus.INVALID_QUEUE_IDENTIFIER, createCq(1, 4, 3, 0, cqBase(2)), "exists");
  }

  @Test
  void createSubmissionQueueErrors() {
    assertEquals(NvmeStatus.SUCCESS, createCq(1, 4, 3, 1, cqBase(1)));
    assertEquals(NvmeStatus.COMPLETION_QUEUE_INVALID, createSq(1, 4, 1, 2, sqBase(1)), "no CQ 2");
    assertEquals(NvmeStatus.COMPLETION_QUEUE_INVALID, createSq(1, 4, 1, 0, sqBase(1)), "admin");
    assertEquals(NvmeStatus.COMPLETION_QUEUE_INVALID, createSq(1, 4, 1, 9, sqBase(1)));
    assertEquals(NvmeStatus.INVALID_QUEUE_IDENTIFIER, createSq(0, 4, 1, 1, sqBase(1)));
    assertEquals(NvmeStatus.INVALID_QUEUE_IDENTIFIER, createSq(3, 4, 1, 1, sqBase(1)));
    assertEquals(NvmeStatus.INVALID_QUEUE_SIZE, createSq(1, 1, 1, 1, sqBase(1)));
    assertEquals(NvmeStatus.INVALID_QUEUE_SIZE, createSq(1, 2048, 1, 1, sqBase(1)));
    assertEquals(NvmeStatus.INVALID_FIELD, createSq(1, 4, 0, 1, sqBase(1)), "PC = 0");
    assertEquals(NvmeStatus.INVALID_PRP_OFFSET, createSq(1, 4, 1, 1, sqBase(1) + 8));
    assertEquals(NvmeStatus.SUCCESS, createSq(1, 4, 1, 1, sqBase(1)));
    assertEquals(NvmeStatus.SUCCESS, createSq(2, 4, 1, 1, sqBase(2)), "two SQs on one CQ");
    assertEquals(NvmeStatus.INVALID_QUEUE_IDENTIFIER, createSq(1, 4, 1, 1, sqBase(1)), "exists");
  }

  @Test
  void deletion() {
    h.createQueuePair(1, 4, 1);
    Cqe busy = h.admin(cmd(DELETE_IO_CQ, 0, 0, 0, 1));
    assertEquals(NvmeStatus.INVALID_QUEUE_DELETION, busy.status(), "SQ 1 still uses it");
    assertEquals(
        NvmeStatus.INVALID_QUEUE_IDENTIFIER, h.admin(cmd(DELETE_IO_SQ, 0, 0, 0, 0)).status());
    assertEquals(
        NvmeStatus.INVALID_QUEUE_IDENTIFIER, h.admin(cmd(DELETE_IO_SQ, 0, 0, 0, 2)).status());
    assertEquals(
        NvmeStatus.INVALID_QUEUE_IDENTIFIER, h.admin(cmd(DELETE_IO_CQ, 0, 0, 0, 0)).status());
    assertEquals(NvmeStatus.SUCCESS, h.admin(cmd(DELETE_IO_SQ, 0, 0, 0, 1)).status());
    assertEquals(NvmeStatus.SUCCESS, h.admin(cmd(DELETE_IO_CQ, 0, 0, 0, 1)).status());
    assertEquals(
        NvmeStatus.INVALID_QUEUE_IDENTIFIER, h.admin(cmd(DELETE_IO_CQ, 0, 0, 0, 1)).status());
    h.reg32(0x1008, 1); // SQ 1's doorbell: gone
    assertEquals(1, h.ctrl.invalidDoorbellWrites());
    h.createQueuePair(1, 8, 1);
    assertTrue(h.io(1, FLUSH).ok());
  }

  @Test
  void completionsCarryHeadIdAndPhaseAcrossWrapAround() {
    h.createQueuePair(1, 4, 1);
    boolean phase = true;
    for (int i = 0; i < 13; i++) {
      Cqe e = h.io(1, FLUSH);
      assertEquals(NvmeStatus.SUCCESS, e.status());
      assertEquals((i + 1) % 4, e.sqHead(), "SQ head after the fetch");
      assertEquals(1, e.sqId());
      assertEquals(phase, e.phase(), "entry " + i);
      if (i % 4 == 3) {
        phase = !phase;
      }
    }
  }

  @Test
  void aFullCompletionQueueStopsFetchingUntilTheHostFreesEntries() {
    h.createQueuePair(1, 8, 1); // both 8 entries: the CQ holds 7 at a time
    List<Integer> cids = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      cids.add(h.submit(1, FLUSH));
    }
    h.ring(1);
    List<Cqe> got = new ArrayList<>();
    for (Cqe e; (e = h.poll(1)) != null; ) {
      got.add(e);
    }
    assertEquals(7, got.size(), "all seven fit");
    // The host has not released them: the queue is full.
    for (int i = 0; i < 3; i++) {
      cids.add(h.submit(1, FLUSH));
    }
    h.ring(1);
    assertNull(h.poll(1), "nothing fetched into a full completion queue");
    Cqe stale = Cqe.decode(h.mem.get(cqBase(1) + 16 * 7, 16));
    assertFalse(stale.phase(), "the free slot was not written");
    h.release(1); // frees all 7: the 3 waiting commands run now
    for (Cqe e; (e = h.poll(1)) != null; ) {
      got.add(e);
    }
    assertEquals(cids, got.stream().map(Cqe::cid).toList());
    assertEquals(2, got.getLast().sqHead());
  }

  @Test
  void partialReleaseLetsPartOfTheWorkThrough() {
    h.createQueuePair(1, 4, 1); // 3 entries at a time
    for (int i = 0; i < 3; i++) {
      h.submit(1, FLUSH);
    }
    h.ring(1);
    assertNotNull(h.poll(1));
    h.release(1); // one entry free
    h.submit(1, FLUSH);
    h.submit(1, FLUSH);
    h.ring(1);
    assertNotNull(h.poll(1));
    assertNotNull(h.poll(1));
    assertNotNull(h.poll(1), "the one freed slot");
    assertNull(h.poll(1));
    h.release(1);
    assertNotNull(h.poll(1), "the last one once more were freed");
  }

  @Test
  void invalidDoorbellValuesAreIgnoredAndCounted() {
    h.createQueuePair(1, 4, 1);
    h.reg32(0x1008, 4); // tail == size
    h.reg32(0x1008, -1);
    h.reg32(0x100c, 1); // CQ head past the entries posted (none)
    h.reg32(0x1000 + 8 * 3, 0); // queue 3: beyond the controller's queues
    h.reg32(0x3ff8, 0); // the last doorbell slot of BAR0
    assertEquals(5, h.ctrl.invalidDoorbellWrites());
    assertTrue(h.io(1, FLUSH).ok(), "the queue still works");
    h.submit(1, FLUSH);
    h.ring(1);
    assertNotNull(h.poll(1));
    h.reg32(0x100c, 3); // two entries past the one posted
    assertEquals(6, h.ctrl.invalidDoorbellWrites());
    h.release(1);
    assertEquals(6, h.ctrl.invalidDoorbellWrites());
  }

  @Test
  void anSqeOutsideRamIsControllerFatal() {
    assertEquals(NvmeStatus.SUCCESS, createCq(1, 4, 3, 1, cqBase(1)));
    assertEquals(NvmeStatus.SUCCESS, createSq(1, 4, 1, 1, HostDriver.RAM - 4096 + 4096L * 16));
    h.reg32(0x1008, 1);
    assertEquals(NvmeRegisters.CSTS_CFS, h.reg32(NvmeRegisters.CSTS) & NvmeRegisters.CSTS_CFS);
    h.disable();
    h.enable(4, 4);
    assertEquals(NvmeRegisters.CSTS_RDY, h.reg32(NvmeRegisters.CSTS), "reset recovers");
  }

  @Test
  void aCqOutsideRamIsControllerFatal() {
    assertEquals(NvmeStatus.SUCCESS, createCq(1, 4, 3, 1, 1L << 40));
    assertEquals(NvmeStatus.SUCCESS, createSq(1, 4, 1, 1, sqBase(1)));
    h.queueState(1, 4, 4);
    h.submit(1, FLUSH);
    h.ring(1);
    assertEquals(NvmeRegisters.CSTS_CFS, h.reg32(NvmeRegisters.CSTS) & NvmeRegisters.CSTS_CFS);
  }
}
