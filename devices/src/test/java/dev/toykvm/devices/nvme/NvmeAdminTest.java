package dev.toykvm.devices.nvme;

import static dev.toykvm.devices.nvme.AdminCommands.*;
import static dev.toykvm.devices.nvme.HostDriver.DATA;
import static dev.toykvm.devices.nvme.HostDriver.cmd;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NvmeAdminTest {
  private static final long DISK = 3L << 20;

  @TempDir Path dir;
  HostDriver h;

  @BeforeEach
  void setUp() throws IOException {
    NvmeDisk disk = NvmeDisk.open(dir.resolve("d.img"), OptionalLong.of(DISK));
    h = new HostDriver(new NvmeConfig(3, "SN-42", "Toy Model"), disk);
    h.pci(true, true, false);
    h.enable(16, 16);
  }

  @AfterEach
  void tearDown() throws IOException {
    h.close();
  }

  private ByteBuffer identify(int cns, int nsid) {
    Cqe e = h.admin(cmd(IDENTIFY, nsid, DATA, 0, cns));
    assertEquals(NvmeStatus.SUCCESS, e.status(), "identify CNS " + cns);
    return ByteBuffer.wrap(h.mem.get(DATA, 4096)).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static String ascii(ByteBuffer b, int at, int length) {
    byte[] s = new byte[length];
    b.get(at, s);
    return new String(s, StandardCharsets.US_ASCII);
  }

  @Test
  void identifyController() {
    ByteBuffer b = identify(CNS_CONTROLLER, 0);
    assertEquals(0x1b36, b.getShort(0) & 0xffff, "VID");
    assertEquals(0x1af4, b.getShort(2) & 0xffff, "SSVID");
    assertEquals("SN-42" + " ".repeat(15), ascii(b, 4, 20), "SN, space padded");
    assertEquals("Toy Model" + " ".repeat(31), ascii(b, 24, 40), "MN");
    assertEquals("1.0     ", ascii(b, 64, 8), "FR");
    assertEquals(5, b.get(77), "MDTS: 128 KiB");
    assertEquals(0x0001_0400, b.getInt(80), "VER");
    assertEquals(3, b.get(259), "AERL");
    assertEquals(0x66, b.get(512), "SQES");
    assertEquals(0x44, b.get(513), "CQES");
    assertEquals(1, b.getInt(516), "NN");
    assertEquals(0x08, b.getShort(520), "ONCS: Write Zeroes");
    assertEquals(1, b.get(525) & 1, "VWC present");
    assertEquals("nqn.2026-01.dev.toykvm:nvme:SN-42", ascii(b, 768, 33), "SUBNQN");
  }

  @Test
  void identifyNamespace() {
    ByteBuffer b = identify(CNS_NAMESPACE, 1);
    long blocks = DISK / 512;
    assertEquals(blocks, b.getLong(0), "NSZE");
    assertEquals(blocks, b.getLong(8), "NCAP");
    assertEquals(blocks, b.getLong(16), "NUSE");
    assertEquals(0, b.get(25), "NLBAF: one format");
    assertEquals(0, b.get(26), "FLBAS");
    assertEquals(9, (b.getInt(128) >>> 16) & 0xff, "LBAF0.LBADS: 512 bytes");
    assertEquals(0, b.getInt(128) & 0xffff, "no metadata");
    byte[] nguid = new byte[16];
    b.get(104, nguid);
    assertArrayEquals(Identify.nguid(h.ctrl.config()), nguid);
  }

  @Test
  void identifyActiveNamespacesAndDescriptors() {
    ByteBuffer list = identify(CNS_ACTIVE_NAMESPACES, 0);
    assertEquals(1, list.getInt(0));
    assertEquals(0, list.getInt(4));
    assertEquals(0, identify(CNS_ACTIVE_NAMESPACES, 1).getInt(0), "none above NSID 1");
    ByteBuffer d = identify(CNS_DESCRIPTORS, 1);
    assertEquals(2, d.get(0), "NIDT: NGUID");
    assertEquals(16, d.get(1), "NIDL");
    byte[] nguid = new byte[16];
    d.get(4, nguid);
    assertArrayEquals(Identify.nguid(h.ctrl.config()), nguid);
    assertEquals(0, d.get(20), "list ends");
  }

  @Test
  void identifyNvmCommandSetControllerHasNoLimits() {
    java.util.Arrays.fill(h.mem.ram, (int) DATA, (int) DATA + 4096, (byte) 0xee);
    Cqe e = h.admin(cmd(IDENTIFY, 0, DATA, 0, CNS_CS_CONTROLLER));
    assertEquals(NvmeStatus.SUCCESS, e.status(), "Linux asks for it");
    assertArrayEquals(new byte[4096], h.mem.get(DATA, 4096));
  }

  @Test
  void identifyErrors() {
    assertEquals(NvmeStatus.INVALID_NAMESPACE, h.admin(cmd(IDENTIFY, 0, DATA, 0, 0)).status());
    assertEquals(NvmeStatus.INVALID_NAMESPACE, h.admin(cmd(IDENTIFY, 2, DATA, 0, 0)).status());
    assertEquals(NvmeStatus.INVALID_NAMESPACE, h.admin(cmd(IDENTIFY, -1, DATA, 0, 0)).status());
    assertEquals(NvmeStatus.INVALID_NAMESPACE, h.admin(cmd(IDENTIFY, -2, DATA, 0, 2)).status());
    assertEquals(NvmeStatus.INVALID_NAMESPACE, h.admin(cmd(IDENTIFY, 7, DATA, 0, 3)).status());
    assertEquals(NvmeStatus.INVALID_FIELD, h.admin(cmd(IDENTIFY, 1, DATA, 0, 4)).status());
    assertEquals(NvmeStatus.INVALID_FIELD, h.admin(cmd(IDENTIFY, 0, DATA, 0, 5)).status());
    assertEquals(
        NvmeStatus.INVALID_FIELD,
        h.admin(cmd(IDENTIFY, 0, DATA, 0, CNS_CS_CONTROLLER, 2 << 24)).status(),
        "CNS 06h for the zoned command set");
    assertEquals(NvmeStatus.INVALID_FIELD, h.admin(cmd(IDENTIFY, 1, DATA, 0, 0x10)).status());
  }

  @Test
  void identifyDataAcrossTwoPages() {
    long at = DATA + 4096 - 100;
    Cqe e = h.admin(cmd(IDENTIFY, 0, at, DATA + 0x10000, CNS_CONTROLLER));
    assertEquals(NvmeStatus.SUCCESS, e.status());
    byte[] whole = new byte[4096];
    System.arraycopy(h.mem.get(at, 100), 0, whole, 0, 100);
    System.arraycopy(h.mem.get(DATA + 0x10000, 3996), 0, whole, 100, 3996);
    assertArrayEquals(Identify.controller(h.ctrl.config()), whole);
  }

  @Test
  void identifyOutsideRamIsADataTransferError() {
    Cqe e = h.admin(cmd(IDENTIFY, 0, HostDriver.RAM - 2048, HostDriver.RAM, CNS_CONTROLLER));
    assertEquals(NvmeStatus.DATA_TRANSFER_ERROR, e.status());
    assertEquals(0, NvmeStatus.DNR & e.status(), "may be retried");
  }

  @Test
  void numberOfQueuesAnswersTheConfiguredCount() {
    Cqe set = h.admin(cmd(SET_FEATURES, 0, 0, 0, Features.NUMBER_OF_QUEUES, 63 << 16 | 63));
    assertEquals(NvmeStatus.SUCCESS, set.status());
    assertEquals(2 << 16 | 2, set.dw0(), "three of each, zero-based");
    Cqe get = h.admin(cmd(GET_FEATURES, 0, 0, 0, Features.NUMBER_OF_QUEUES));
    assertEquals(2 << 16 | 2, get.dw0());
    assertEquals(
        NvmeStatus.INVALID_FIELD,
        h.admin(cmd(SET_FEATURES, 0, 0, 0, Features.NUMBER_OF_QUEUES, 0xffff)).status());
    h.createQueuePair(1, 4, 1);
    assertEquals(
        NvmeStatus.COMMAND_SEQUENCE_ERROR,
        h.admin(cmd(SET_FEATURES, 0, 0, 0, Features.NUMBER_OF_QUEUES, 0)).status(),
        "after an I/O queue exists");
  }

  @Test
  void featuresAreStoredAndResetWithTheController() {
    assertEquals(1, h.admin(cmd(GET_FEATURES, 0, 0, 0, Features.VOLATILE_WRITE_CACHE)).dw0());
    assertEquals(
        NvmeStatus.SUCCESS,
        h.admin(cmd(SET_FEATURES, 0, 0, 0, Features.VOLATILE_WRITE_CACHE, 0)).status());
    assertEquals(0, h.admin(cmd(GET_FEATURES, 0, 0, 0, Features.VOLATILE_WRITE_CACHE)).dw0());
    h.admin(cmd(SET_FEATURES, 0, 0, 0, Features.ARBITRATION, 0x0302_0103));
    assertEquals(0x0302_0103, h.admin(cmd(GET_FEATURES, 0, 0, 0, Features.ARBITRATION)).dw0());
    h.admin(cmd(SET_FEATURES, 0, 0, 0, Features.INTERRUPT_COALESCING, 0x0a05));
    assertEquals(0x0a05, h.admin(cmd(GET_FEATURES, 0, 0, 0, Features.INTERRUPT_COALESCING)).dw0());
    h.disable();
    h.enable(16, 16);
    assertEquals(1, h.admin(cmd(GET_FEATURES, 0, 0, 0, Features.VOLATILE_WRITE_CACHE)).dw0());
    assertEquals(0, h.admin(cmd(GET_FEATURES, 0, 0, 0, Features.ARBITRATION)).dw0());
  }

  @Test
  void temperatureThresholds() {
    assertEquals(343, h.admin(cmd(GET_FEATURES, 0, 0, 0, Features.TEMPERATURE_THRESHOLD)).dw0());
    int under = 1 << 20;
    assertEquals(
        0, h.admin(cmd(GET_FEATURES, 0, 0, 0, Features.TEMPERATURE_THRESHOLD, under)).dw0());
    h.admin(cmd(SET_FEATURES, 0, 0, 0, Features.TEMPERATURE_THRESHOLD, under | 250));
    assertEquals(
        250, h.admin(cmd(GET_FEATURES, 0, 0, 0, Features.TEMPERATURE_THRESHOLD, under)).dw0());
    h.admin(cmd(SET_FEATURES, 0, 0, 0, Features.TEMPERATURE_THRESHOLD, 0xf << 16 | 330));
    assertEquals(330, h.admin(cmd(GET_FEATURES, 0, 0, 0, Features.TEMPERATURE_THRESHOLD)).dw0());
    assertEquals(
        NvmeStatus.INVALID_FIELD,
        h.admin(cmd(GET_FEATURES, 0, 0, 0, Features.TEMPERATURE_THRESHOLD, 1 << 16)).status(),
        "sensor 1 does not exist");
  }

  @Test
  void featureErrors() {
    assertEquals(NvmeStatus.INVALID_FIELD, h.admin(cmd(GET_FEATURES, 0, 0, 0, 0x7f)).status());
    assertEquals(NvmeStatus.INVALID_FIELD, h.admin(cmd(SET_FEATURES, 0, 0, 0, 0x0c, 1)).status());
    assertEquals(
        NvmeStatus.FEATURE_NOT_SAVEABLE,
        h.admin(cmd(SET_FEATURES, 0, 0, 0, 1 << 31 | Features.ARBITRATION)).status());
    assertEquals(
        NvmeStatus.INVALID_FIELD,
        h.admin(cmd(SET_FEATURES, 0, 0, 0, Features.POWER_MANAGEMENT, 1)).status(),
        "power state 1 does not exist");
    assertEquals(
        NvmeStatus.INVALID_FIELD,
        h.admin(cmd(GET_FEATURES, 0, 0, 0, Features.INTERRUPT_VECTOR_CONFIG, 4)).status(),
        "vectors 0-3");
    assertEquals(
        3 | 1 << 16,
        h.admin(cmd(SET_FEATURES, 0, 0, 0, Features.INTERRUPT_VECTOR_CONFIG, 1 << 16 | 3)).dw0()
            | h.admin(cmd(GET_FEATURES, 0, 0, 0, Features.INTERRUPT_VECTOR_CONFIG, 3)).dw0());
  }

  @ParameterizedTest
  @ValueSource(ints = {0x03, 0x07, 0x0d, 0x10, 0x11, 0x80, 0xc0, 0xff})
  void otherOpcodesAreInvalid(int opcode) {
    Cqe e = h.admin(cmd(opcode, 0, DATA, 0));
    assertEquals(NvmeStatus.INVALID_OPCODE, e.status());
    assertEquals(1, NvmeStatus.type(e.status()) + 1, "generic status");
    assertEquals(true, NvmeStatus.dnr(e.status()));
  }

  @Test
  void fusedOrSglCommandsAreInvalidField() {
    Command fused = new Command(IDENTIFY, 1, 0, 0, 0, DATA, 0, 1, 0, 0, 0, 0, 0);
    assertEquals(NvmeStatus.INVALID_FIELD, h.admin(fused).status());
    Command sgl = new Command(IDENTIFY, 0, 1, 0, 0, DATA, 0, 1, 0, 0, 0, 0, 0);
    assertEquals(NvmeStatus.INVALID_FIELD, h.admin(sgl).status());
  }

  @Test
  void abortNeverAborts() {
    Cqe e = h.admin(cmd(ABORT, 0, 0, 0, 5 << 16 | 1));
    assertEquals(NvmeStatus.SUCCESS, e.status());
    assertEquals(1, e.dw0() & 1, "not aborted");
  }

  private Cqe logPage(int lid, int dwords, long offset) {
    Arrays.fill(h.mem.ram, (int) DATA, (int) DATA + 8192, (byte) 0xee);
    return h.admin(
        cmd(GET_LOG_PAGE, -1, DATA, DATA + 4096, (dwords - 1) << 16 | lid, 0, (int) offset));
  }

  @Test
  void logPagesAreSized() {
    assertEquals(NvmeStatus.SUCCESS, logPage(LogPages.ERROR_INFORMATION, 16, 0).status());
    assertArrayEquals(new byte[64], h.mem.get(DATA, 64));
    assertEquals(NvmeStatus.SUCCESS, logPage(LogPages.SMART, 128, 0).status());
    ByteBuffer smart = ByteBuffer.wrap(h.mem.get(DATA, 512)).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(LogPages.TEMPERATURE, smart.getShort(1));
    assertEquals(100, smart.get(3), "available spare");
    assertEquals(NvmeStatus.SUCCESS, logPage(LogPages.FIRMWARE_SLOT, 128, 0).status());
    assertEquals(1, h.mem.ram[(int) DATA], "AFI: slot 1");
    assertEquals("1.0     ", new String(h.mem.get(DATA + 8, 8), StandardCharsets.US_ASCII));
    assertEquals(NvmeStatus.SUCCESS, logPage(LogPages.FIRMWARE_SLOT, 2, 8).status(), "offset");
    assertEquals("1.0 ", new String(h.mem.get(DATA, 4), StandardCharsets.US_ASCII));
    assertEquals((byte) 0xee, h.mem.ram[(int) DATA + 8], "8 bytes only");
    assertEquals(NvmeStatus.SUCCESS, logPage(LogPages.SMART, 1024 + 4, 0).status());
    assertArrayEquals(new byte[4096 - 512], h.mem.get(DATA + 512, 4096 - 512), "zeros past");
  }

  @Test
  void theErrorLogHoldsTheLatestError() {
    Cqe bad = h.admin(cmd(IDENTIFY, 5, DATA, 0, CNS_NAMESPACE));
    assertEquals(NvmeStatus.SUCCESS, logPage(LogPages.ERROR_INFORMATION, 16, 0).status());
    ByteBuffer e = ByteBuffer.wrap(h.mem.get(DATA, 64)).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(1, e.getLong(0), "error count");
    assertEquals(0, e.getShort(8), "SQID");
    assertEquals(bad.cid(), e.getShort(10) & 0xffff, "CID");
    assertEquals(NvmeStatus.INVALID_NAMESPACE, (e.getShort(12) & 0xffff) >>> 1, "status field");
    assertEquals(5, e.getInt(24), "namespace");
    h.reg32(0x1000 + 8 * 3 + 4, 0); // CQ 3's head: no such queue
    logPage(LogPages.ERROR_INFORMATION, 16, 0);
    e = ByteBuffer.wrap(h.mem.get(DATA, 64)).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(2, e.getLong(0));
    assertEquals(3, e.getShort(8), "the doorbell's queue");
    assertEquals(0xffff, e.getShort(10) & 0xffff, "no command");
    h.disable();
    h.enable(16, 16);
    logPage(LogPages.ERROR_INFORMATION, 16, 0);
    assertEquals(2, h.mem.le.getLong((int) DATA), "kept across a reset");
  }

  @Test
  void logPageErrors() {
    assertEquals(NvmeStatus.INVALID_LOG_PAGE, logPage(0x04, 1, 0).status());
    assertEquals(NvmeStatus.INVALID_LOG_PAGE, logPage(0x80, 1, 0).status());
    assertEquals(NvmeStatus.INVALID_FIELD, logPage(LogPages.SMART, 1, 512).status(), "offset");
    assertEquals(NvmeStatus.INVALID_FIELD, logPage(LogPages.SMART, 1, 2).status(), "unaligned");
    assertEquals(
        NvmeStatus.INVALID_FIELD, logPage(LogPages.SMART, 32 * 1024 + 1, 0).status(), "MDTS");
  }

  @Test
  void asyncEventRequestsWaitAndAreLimited() {
    for (int i = 0; i < 4; i++) {
      h.submit(0, cmd(ASYNC_EVENT_REQUEST, 0, 0, 0));
    }
    h.ring(0);
    assertNull(h.poll(0), "held");
    Cqe fifth = h.admin(cmd(ASYNC_EVENT_REQUEST, 0, 0, 0));
    assertEquals(NvmeStatus.ASYNC_EVENT_LIMIT_EXCEEDED, fifth.status());
  }

  @Test
  void anInvalidDoorbellCompletesAnAsyncEventRequestOnce() {
    int cid = h.submit(0, cmd(ASYNC_EVENT_REQUEST, 0, 0, 0));
    int cid2 = h.submit(0, cmd(ASYNC_EVENT_REQUEST, 0, 0, 0));
    h.ring(0);
    h.reg32(0x1000 + 8 * 2, 0); // SQ 2 does not exist
    Cqe e = h.poll(0);
    assertNotNull(e);
    assertEquals(cid, e.cid());
    assertEquals(NvmeStatus.SUCCESS, e.status());
    assertEquals(AsyncEvents.TYPE_ERROR, e.dw0() & 7);
    assertEquals(AsyncEvents.INVALID_DOORBELL_REGISTER, (e.dw0() >>> 8) & 0xff);
    assertEquals(LogPages.ERROR_INFORMATION, (e.dw0() >>> 16) & 0xff);
    h.release(0);
    h.reg32(0x1000 + 4, 100); // CQ 0 head past its size: masked until the log is read
    assertNull(h.poll(0));
    assertEquals(2, h.ctrl.invalidDoorbellWrites());
    assertEquals(NvmeStatus.SUCCESS, logPage(LogPages.ERROR_INFORMATION, 16, 0).status());
    h.reg32(0x1000, 17); // SQ 0 tail past its size (16 entries)
    Cqe second = h.poll(0);
    assertNotNull(second);
    assertEquals(cid2, second.cid());
    assertEquals(AsyncEvents.INVALID_DOORBELL_VALUE, (second.dw0() >>> 8) & 0xff);
  }
}
