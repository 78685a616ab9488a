package dev.toykvm.devices.nvme;

import static dev.toykvm.devices.nvme.HostDriver.cmd;
import static dev.toykvm.devices.nvme.NvmeRegisters.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class NvmeRegistersTest {
  @TempDir Path dir;
  HostDriver h;

  @BeforeEach
  void setUp() throws IOException {
    NvmeDisk disk = NvmeDisk.open(dir.resolve("d.img"), OptionalLong.of(1 << 20));
    h = new HostDriver(NvmeConfig.of(4), disk);
    h.pci(true, true, false);
  }

  @AfterEach
  void tearDown() throws IOException {
    h.close();
  }

  @Test
  void capabilitiesSayWhatTheControllerIs() {
    long cap = h.ctrl.read(CAP, 8);
    assertEquals(1023, cap & 0xffff, "MQES");
    assertEquals(1, (cap >>> 16) & 1, "CQR");
    assertEquals(0, (cap >>> 17) & 3, "AMS: round robin only");
    assertEquals(0x0f, (cap >>> 24) & 0xff, "TO");
    assertEquals(0, (cap >>> 32) & 0xf, "DSTRD");
    assertEquals(0, (cap >>> 36) & 1, "NSSRS");
    assertEquals(1, (cap >>> 37) & 0xff, "CSS: NVM command set");
    assertEquals(0, (cap >>> 48) & 0xff, "MPSMIN, MPSMAX: 4 KiB");
    assertEquals(cap & 0xffff_ffffL, h.ctrl.read(CAP, 4), "low half");
    assertEquals(cap >>> 32, h.ctrl.read(CAP + 4, 4), "high half");
    assertEquals(0x0001_0400, h.reg32(VS));
  }

  @Test
  void undefinedOffsetsAndDoorbellsReadZeroAndIgnoreWrites() {
    h.enable(4, 4);
    for (int off : new int[] {0x38, 0x3c, 0x50, 0xffc, 0x1000, 0x1004, 0x3ffc}) {
      h.reg32(off, 0xffff_ffff);
      assertEquals(0, h.reg32(off), "offset 0x" + Integer.toHexString(off));
    }
    assertEquals(0, h.ctrl.read(0x4000, 4), "past BAR0");
    h.reg32(CAP, 0);
    h.reg32(VS, 0);
    assertEquals(0x0001_0400, h.reg32(VS), "read-only");
    assertEquals(1023, h.reg32(CAP) & 0xffff);
  }

  @Test
  void oddWritesAreIgnoredAndCounted() {
    h.ctrl.write(CC, 1, 1);
    h.ctrl.write(CC, 2, 1);
    h.ctrl.write(CC + 1, 4, 1);
    h.ctrl.write(0x3ffc, 8, 1); // runs past BAR0
    h.ctrl.write(Long.MAX_VALUE - 3, 4, 1);
    h.ctrl.write(-4, 4, 1);
    assertEquals(0, h.reg32(CC));
    assertEquals(6, h.ctrl.oddAccesses());
    assertEquals(0x04, h.ctrl.read(VS + 1, 1), "a byte read gives the byte");
  }

  @Test
  void sixtyFourBitRegistersTakeTwoHalves() {
    h.reg32(ASQ, 0x1234_5000);
    h.reg32(ASQ + 4, 0x9);
    assertEquals(0x9_1234_5000L, h.ctrl.read(ASQ, 8));
    h.ctrl.write(ACQ, 8, 0xabc_0000_1000L);
    assertEquals(0x0000_1000, h.reg32(ACQ));
    assertEquals(0xabc, h.reg32(ACQ + 4));
    h.reg32(AQA, 0xffff_ffff);
    assertEquals(0x0fff_0fff, h.reg32(AQA), "AQA's reserved bits");
  }

  @Test
  void enableSetsReadyAndTheAdminQueueWorks() {
    h.enable(2, 2);
    assertEquals(CSTS_RDY, h.reg32(CSTS));
    assertEquals(HostDriver.CC_ENABLE, h.reg32(CC));
    for (int i = 0; i < 5; i++) { // wraps both two-entry rings
      assertTrue(h.admin(cmd(AdminCommands.GET_FEATURES, 0, 0, 0, Features.ARBITRATION)).ok());
    }
  }

  @ParameterizedTest(name = "CC 0x{0} AQA 0x{1} ASQ 0x{2}")
  @CsvSource({
    "00460011, 001f001f, 10000", // CSS 1
    "00460081, 001f001f, 10000", // MPS 1 (8 KiB)
    "00460801, 001f001f, 10000", // AMS 1
    "00450001, 001f001f, 10000", // IOSQES 5
    "00360001, 001f001f, 10000", // IOCQES 3
    "00000001, 001f001f, 10000", // IOSQES, IOCQES 0
    "00460001, 001f0000, 10000", // ASQS 0: one entry
    "00460001, 0000001f, 10000", // ACQS 0
    "00460001, 001f001f, 10800", // ASQ not page-aligned
  })
  void aBadValueAtEnableIsControllerFatal(String cc, String aqa, String asq) {
    h.reg32(AQA, Integer.parseUnsignedInt(aqa, 16));
    h.ctrl.write(ASQ, 8, Long.parseLong(asq, 16));
    h.ctrl.write(ACQ, 8, HostDriver.ACQ);
    h.reg32(CC, Integer.parseUnsignedInt(cc, 16));
    assertEquals(CSTS_CFS, h.reg32(CSTS), "CFS, not RDY");
    h.reg32(0x1000, 1); // the admin doorbell does nothing
    assertEquals(1, h.ctrl.ignoredDoorbellWrites());
    h.disable();
    assertEquals(0, h.reg32(CSTS), "reset clears CFS");
    h.enable(4, 4);
    assertEquals(CSTS_RDY, h.reg32(CSTS), "and a good enable works");
  }

  @Test
  void resetDeletesEveryQueue() {
    h.enable(4, 4);
    h.createQueuePair(1, 8, 1);
    h.disable();
    assertEquals(0, h.reg32(CSTS));
    h.enable(4, 4);
    h.reg32(0x1008, 1); // SQ 1 tail: no such queue any more
    assertEquals(1, h.ctrl.invalidDoorbellWrites());
    h.createQueuePair(1, 8, 1); // the id is free again
  }

  @Test
  void resetDropsOutstandingAsyncEventRequests() {
    h.enable(4, 4);
    h.submit(0, cmd(AdminCommands.ASYNC_EVENT_REQUEST, 0, 0, 0));
    h.ring(0);
    h.disable();
    h.enable(4, 4);
    h.reg32(0x1000 + 8 * 9, 0); // an event, with no request outstanding any more
    assertNull(h.poll(0));
  }

  @Test
  void doorbellsBeforeEnableAreIgnored() {
    h.reg32(0x1000, 1);
    h.reg32(0x1004, 1);
    assertEquals(2, h.ctrl.ignoredDoorbellWrites());
    assertEquals(0, h.ctrl.invalidDoorbellWrites());
  }

  @Test
  void shutdownFlushesAndReportsComplete() {
    h.enable(4, 4);
    h.reg32(CC, HostDriver.CC_ENABLE | 1 << 14); // SHN normal
    assertEquals(CSTS_RDY | CSTS_SHST_COMPLETE, h.reg32(CSTS));
    h.reg32(CC, HostDriver.CC_ENABLE);
    assertEquals(CSTS_RDY, h.reg32(CSTS), "SHN cleared: normal operation");
    h.reg32(CC, HostDriver.CC_ENABLE | 2 << 14); // abrupt
    assertEquals(CSTS_SHST_COMPLETE, h.reg32(CSTS) & (3 << 2));
    h.disable();
    assertEquals(0, h.reg32(CSTS));
  }

  @Test
  void intmsAndIntmcSetAndClearTheMask() {
    h.reg32(INTMS, 1);
    assertEquals(1, h.reg32(INTMS));
    assertEquals(1, h.reg32(INTMC));
    h.reg32(INTMC, 1);
    assertEquals(0, h.reg32(INTMS));
  }

  @Test
  void closedControllerAnswersNothing() throws IOException {
    h.enable(4, 4);
    h.close();
    assertEquals(0, h.reg32(CSTS));
    h.reg32(CC, 0); // no exception
  }
}
