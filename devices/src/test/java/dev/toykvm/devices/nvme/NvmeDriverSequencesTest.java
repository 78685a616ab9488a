package dev.toykvm.devices.nvme;

import static dev.toykvm.devices.nvme.AdminCommands.*;
import static dev.toykvm.devices.nvme.HostDriver.DATA;
import static dev.toykvm.devices.nvme.HostDriver.cmd;
import static dev.toykvm.devices.nvme.NvmeRegisters.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The register and command sequences real drivers use, step by step: SeaBIOS's {@code
 * src/hw/nvme.c} (INTx, polled I/O queue, a queue as large as a page allows, PRP lists) and Linux's
 * {@code drivers/nvme/host/pci.c} (MSI-X, Number of Queues, an AER, the identify set, shutdown).
 */
class NvmeDriverSequencesTest {
  @TempDir Path dir;

  private HostDriver controller(int queues) throws IOException {
    NvmeDisk disk = NvmeDisk.open(dir.resolve("d.img"), OptionalLong.empty()); // 64 MiB
    return new HostDriver(NvmeConfig.of(queues), disk);
  }

  private static long le64(byte[] b, int at) {
    return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(at);
  }

  @Test
  void seaBiosBootsFromIt() throws IOException {
    try (HostDriver h = controller(4)) {
      h.pci(true, false, false); // pci_enable_busmaster; MSI-X stays off
      long cap = (h.ctrl.read(CAP, 4) & 0xffff_ffffL) | h.ctrl.read(CAP + 4, 4) << 32;
      assertTrue((cap & 1L << 37) != 0, "NVM command set, or SeaBIOS skips the controller");
      h.reg32(CC, 0);
      assertEquals(0, h.reg32(CSTS) & CSTS_RDY);
      h.enable(64, 256); // a page of each: 64 SQEs, 256 CQEs
      assertEquals(CSTS_RDY, h.reg32(CSTS));
      assertTrue(h.admin(cmd(IDENTIFY, 0, DATA, 0, CNS_CONTROLLER)).ok());
      ByteBuffer id = ByteBuffer.wrap(h.mem.get(DATA, 4096)).order(ByteOrder.LITTLE_ENDIAN);
      assertEquals(1, id.getInt(516), "nn");
      int mdts = id.get(77);
      // I/O queue pair 1: 1 + MQES entries, capped at 4096 / 16; the CQ polled (IEN 0).
      int entries = Math.min(1 + (int) (cap & 0xffff), 4096 / 16);
      assertEquals(256, entries);
      assertTrue(
          h.admin(cmd(CREATE_IO_CQ, 0, HostDriver.cqBase(1), 0, (entries - 1) << 16 | 1, 1)).ok());
      assertTrue(
          h.admin(
                  cmd(
                      CREATE_IO_SQ,
                      0,
                      HostDriver.sqBase(1),
                      0,
                      (entries - 1) << 16 | 1,
                      1 << 16 | 1))
              .ok());
      h.queueState(1, entries, entries);
      assertTrue(h.admin(cmd(IDENTIFY, 1, DATA, 0, CNS_NAMESPACE)).ok());
      byte[] ns = h.mem.get(DATA, 4096);
      assertEquals(64L << 20 >> 9, le64(ns, 0), "nsze");
      assertEquals(9, ns[128 + 2], "lbads of format flbas & 0xf");
      assertEquals(256, (1 << mdts) * 4096 / 512, "max request: 256 sectors");
      // A boot sector read into a buffer below 1 MiB, then a 64 KiB read with a PRP list.
      byte[] mbr = new byte[512];
      mbr[510] = 0x55;
      mbr[511] = (byte) 0xaa;
      h.disk.write(0, mbr);
      Command read = cmd(IoCommands.READ, 1, 0x7c00, 0, 0, 0, 1 << 31); // LR, count 1
      assertTrue(h.io(1, read).ok());
      assertArrayEquals(mbr, h.mem.get(0x7c00, 512));
      byte[] kernel = new byte[64 << 10];
      new Random(3).nextBytes(kernel);
      h.disk.write(100, kernel);
      long[] prpl = new long[15];
      ByteBuffer list = ByteBuffer.allocate(8 * 15).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < 15; i++) {
        prpl[i] = DATA + 4096L * (i + 1);
        list.putLong(prpl[i]);
      }
      h.mem.put(0x9000, list.array());
      assertTrue(h.io(1, cmd(IoCommands.READ, 1, DATA, 0x9000, 100, 0, 1 << 31 | 127)).ok());
      assertArrayEquals(kernel, h.mem.get(DATA, 64 << 10));
      assertFalse(h.irq.intx, "every completion consumed: INTx low");
      assertEquals(List.of(), h.irq.msix);
    }
  }

  @Test
  void linuxProbesUsesAndShutsItDown() throws IOException {
    try (HostDriver h = controller(4)) {
      h.pci(true, false, false);
      h.reg32(CC, 0);
      h.enable(32, 32);
      assertTrue(h.admin(cmd(IDENTIFY, 0, DATA, 0, CNS_CONTROLLER)).ok());
      // nvme_set_queue_count: one queue per CPU asked, the answer caps it.
      Cqe q = h.admin(cmd(SET_FEATURES, 0, 0, 0, Features.NUMBER_OF_QUEUES, 7 << 16 | 7));
      int granted = Math.min(q.dw0() & 0xffff, q.dw0() >>> 16) + 1;
      assertEquals(4, granted);
      h.pci(true, true, false); // pci_alloc_irq_vectors: MSI-X with granted + 1 vectors
      int aer = h.submit(0, cmd(ASYNC_EVENT_REQUEST, 0, 0, 0));
      h.ring(0);
      assertTrue(h.admin(cmd(SET_FEATURES, 0, 0, 0, Features.ASYNC_EVENT_CONFIG, 0x300)).ok());
      assertTrue(h.admin(cmd(IDENTIFY, 0, DATA, 0, CNS_ACTIVE_NAMESPACES)).ok());
      assertEquals(1, h.mem.le.getInt((int) DATA));
      assertTrue(h.admin(cmd(IDENTIFY, 1, DATA, 0, CNS_NAMESPACE)).ok());
      assertTrue(h.admin(cmd(IDENTIFY, 1, DATA, 0, CNS_DESCRIPTORS)).ok());
      for (int qid = 1; qid <= granted; qid++) {
        h.createQueuePair(qid, 1024, qid); // vector qid, as Linux spreads them
      }
      h.irq.clear();
      for (int qid = 1; qid <= granted; qid++) {
        h.mem.put(DATA + 4096L * qid, new byte[4096]);
        Command w = HostDriver.rw(IoCommands.WRITE, qid * 8L, 8, DATA + 4096L * qid, 0);
        assertTrue(h.io(qid, w).ok());
      }
      assertEquals(List.of(1, 2, 3, 4), h.irq.msix, "each queue's own vector");
      assertTrue(h.io(1, cmd(IoCommands.FLUSH, 1, 0, 0)).ok());
      // nvme_dev_disable: delete the I/O queues, SQs first, then shut down.
      for (int qid = granted; qid >= 1; qid--) {
        assertTrue(h.admin(cmd(DELETE_IO_SQ, 0, 0, 0, qid)).ok());
        assertTrue(h.admin(cmd(DELETE_IO_CQ, 0, 0, 0, qid)).ok());
      }
      h.reg32(CC, HostDriver.CC_ENABLE | 1 << 14);
      assertEquals(CSTS_SHST_COMPLETE, h.reg32(CSTS) & 0xc);
      assertNull(h.poll(0), "the AER (cid " + aer + ") is still held");
      h.disable();
      assertEquals(0, h.reg32(CSTS));
    }
    assertEquals(64L << 20, Files.size(dir.resolve("d.img")));
  }
}
