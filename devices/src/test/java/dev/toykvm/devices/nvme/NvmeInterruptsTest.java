package dev.toykvm.devices.nvme;

import static dev.toykvm.devices.nvme.AdminCommands.CREATE_IO_CQ;
import static dev.toykvm.devices.nvme.AdminCommands.CREATE_IO_SQ;
import static dev.toykvm.devices.nvme.HostDriver.cmd;
import static dev.toykvm.devices.nvme.HostDriver.cqBase;
import static dev.toykvm.devices.nvme.HostDriver.sqBase;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NvmeInterruptsTest {
  private static final Command FLUSH = cmd(IoCommands.FLUSH, 1, 0, 0);

  @TempDir Path dir;
  HostDriver h;

  @BeforeEach
  void setUp() throws IOException {
    h = HostDriver.started(dir, 4, 1 << 20);
  }

  @AfterEach
  void tearDown() throws IOException {
    h.close();
  }

  @Test
  void msixSignalsEachCompletionQueuesVectorOncePerBatch() {
    h.createQueuePair(1, 8, 3);
    h.irq.clear();
    h.submit(1, FLUSH);
    h.submit(1, FLUSH);
    h.submit(1, FLUSH);
    h.ring(1);
    assertEquals(List.of(3), h.irq.msix, "one message for three entries");
    h.admin(cmd(AdminCommands.GET_FEATURES, 0, 0, 0, Features.ARBITRATION));
    assertEquals(List.of(3, 0), h.irq.msix, "the admin queue's vector 0");
    assertTrue(h.irq.intxChanges.isEmpty(), "no INTx with MSI-X");
  }

  @Test
  void noInterruptWithoutACompletion() {
    h.createQueuePair(1, 8, 1);
    h.irq.clear();
    h.submit(0, cmd(AdminCommands.ASYNC_EVENT_REQUEST, 0, 0, 0));
    h.ring(0); // held: nothing posted
    h.release(0); // CQ head where it is: nothing new
    h.pci(true, true, false);
    assertTrue(h.irq.msix.isEmpty());
  }

  @Test
  void aQueueWithInterruptsDisabledIsPolled() {
    int created =
        h.admin(cmd(CREATE_IO_CQ, 0, cqBase(1), 0, 7 << 16 | 1, 1 << 16 | 1)).status(); // IEN 0
    assertEquals(NvmeStatus.SUCCESS, created);
    h.admin(cmd(CREATE_IO_SQ, 0, sqBase(1), 0, 7 << 16 | 1, 1 << 16 | 1));
    h.queueState(1, 8, 8);
    h.irq.clear();
    h.pci(true, false, false); // INTx too
    assertTrue(h.io(1, FLUSH).ok());
    h.submit(1, FLUSH);
    h.ring(1);
    assertTrue(h.irq.msix.isEmpty());
    assertTrue(h.irq.intxChanges.isEmpty(), "an IEN 0 queue never asserts INTx");
    assertNotNull(h.poll(1));
  }

  @Test
  void intxFollowsUnconsumedEntries() {
    h.pci(true, false, false);
    h.irq.clear();
    int cid = h.submit(0, cmd(AdminCommands.GET_FEATURES, 0, 0, 0, Features.ARBITRATION));
    h.ring(0);
    assertEquals(List.of(true), h.irq.intxChanges, "asserted with an entry posted");
    assertEquals(cid, h.poll(0).cid());
    assertTrue(h.irq.intx, "still: the host has not released it");
    h.release(0);
    assertEquals(List.of(true, false), h.irq.intxChanges, "deasserted at the head doorbell");
    assertTrue(h.irq.msix.isEmpty());
  }

  @Test
  void intxStaysWhileAnyQueueHoldsEntries() {
    h.pci(true, false, false);
    h.createQueuePair(1, 8, 1);
    h.createQueuePair(2, 8, 2);
    h.irq.clear();
    h.submit(1, FLUSH);
    h.ring(1);
    h.submit(2, FLUSH);
    h.ring(2);
    assertEquals(List.of(true), h.irq.intxChanges);
    h.poll(1);
    h.release(1);
    assertTrue(h.irq.intx, "queue 2 still holds one");
    h.poll(2);
    h.release(2);
    assertFalse(h.irq.intx);
  }

  @Test
  void intmsMasksIntxAndIntmcUnmasks() {
    h.pci(true, false, false);
    h.reg32(NvmeRegisters.INTMS, 1);
    h.irq.clear();
    h.submit(0, cmd(AdminCommands.GET_FEATURES, 0, 0, 0, Features.ARBITRATION));
    h.ring(0);
    assertTrue(h.irq.intxChanges.isEmpty(), "masked");
    h.reg32(NvmeRegisters.INTMC, 1);
    assertEquals(List.of(true), h.irq.intxChanges, "pending entry: asserted on unmask");
    h.reg32(NvmeRegisters.INTMS, 1);
    assertEquals(List.of(true, false), h.irq.intxChanges, "masking deasserts");
  }

  @Test
  void intxDisabledOrMsixEnabledDeasserts() {
    h.pci(true, false, false);
    h.irq.clear();
    h.submit(0, cmd(AdminCommands.GET_FEATURES, 0, 0, 0, Features.ARBITRATION));
    h.ring(0);
    assertTrue(h.irq.intx);
    h.pci(true, false, true); // command register INTx disable
    assertFalse(h.irq.intx);
    h.pci(true, false, false);
    assertTrue(h.irq.intx);
    h.pci(true, true, false); // MSI-X on
    assertFalse(h.irq.intx);
  }

  @Test
  void resetAndCloseDeassertIntx() throws IOException {
    h.pci(true, false, false);
    h.submit(0, cmd(AdminCommands.GET_FEATURES, 0, 0, 0, Features.ARBITRATION));
    h.ring(0);
    assertTrue(h.irq.intx);
    h.disable();
    assertFalse(h.irq.intx, "reset");
    h.enable(4, 4);
    h.submit(0, cmd(AdminCommands.GET_FEATURES, 0, 0, 0, Features.ARBITRATION));
    h.ring(0);
    assertTrue(h.irq.intx);
    h.ctrl.close();
    assertFalse(h.irq.intx, "close");
  }
}
