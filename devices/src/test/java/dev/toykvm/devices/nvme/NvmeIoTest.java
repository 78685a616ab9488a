package dev.toykvm.devices.nvme;

import static dev.toykvm.devices.nvme.HostDriver.DATA;
import static dev.toykvm.devices.nvme.HostDriver.cmd;
import static dev.toykvm.devices.nvme.HostDriver.rw;
import static dev.toykvm.devices.nvme.IoCommands.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NvmeIoTest {
  private static final int DISK = 1 << 20; // 2048 blocks
  private static final long BLOCKS = DISK / 512;
  private static final long LIST = 0x7f0000; // PRP lists live here

  @TempDir Path dir;
  HostDriver h;

  @BeforeEach
  void setUp() throws IOException {
    h = HostDriver.started(dir, 2, DISK);
    h.createQueuePair(1, 16, 1);
  }

  @AfterEach
  void tearDown() throws IOException {
    h.close();
  }

  private static byte[] pattern(int length, long seed) {
    byte[] b = new byte[length];
    new Random(seed).nextBytes(b);
    return b;
  }

  private byte[] file() throws IOException {
    return Files.readAllBytes(h.disk.file());
  }

  private void putList(long at, long... entries) {
    ByteBuffer b = ByteBuffer.allocate(entries.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long e : entries) {
      b.putLong(e);
    }
    h.mem.put(at, b.array());
  }

  @Test
  void writeThenReadWithPrp1Only() throws IOException {
    byte[] data = pattern(2048, 1);
    h.mem.put(DATA + 1024, data);
    assertEquals(NvmeStatus.SUCCESS, h.io(1, rw(WRITE, 10, 4, DATA + 1024, 0)).status());
    assertArrayEquals(data, Arrays.copyOfRange(file(), 10 * 512, 14 * 512), "in the file");
    assertEquals(NvmeStatus.SUCCESS, h.io(1, rw(READ, 10, 4, DATA + 0x8000 + 4, 0)).status());
    assertArrayEquals(data, h.mem.get(DATA + 0x8000 + 4, 2048), "dword-aligned PRP1 offset");
  }

  @Test
  void prp2IsTheSecondPageWhenTwoPagesSuffice() throws IOException {
    byte[] data = pattern(4096, 2);
    long p1 = DATA + 4096 - 512;
    long p2 = DATA + 0x20000;
    h.mem.put(p1, Arrays.copyOfRange(data, 0, 512));
    h.mem.put(p2, Arrays.copyOfRange(data, 512, 4096));
    assertEquals(NvmeStatus.SUCCESS, h.io(1, rw(WRITE, 0, 8, p1, p2)).status());
    assertArrayEquals(data, Arrays.copyOfRange(file(), 0, 4096));
    assertEquals(
        NvmeStatus.SUCCESS, h.io(1, rw(READ, 0, 16, DATA + 0x40000, DATA + 0x50000)).status());
    assertArrayEquals(data, h.mem.get(DATA + 0x40000, 4096), "exactly two pages");
  }

  @Test
  void aPrpListDescribesTheRest() throws IOException {
    byte[] data = pattern(5 * 4096, 3);
    long[] pages = {DATA + 0x10000, DATA + 0x30000, DATA + 0x13000, DATA + 0x70000};
    h.mem.put(DATA, Arrays.copyOfRange(data, 0, 4096));
    for (int i = 0; i < pages.length; i++) {
      h.mem.put(pages[i], Arrays.copyOfRange(data, 4096 * (i + 1), 4096 * (i + 2)));
    }
    putList(LIST + 0x100, pages); // a list may start anywhere qword-aligned
    assertEquals(NvmeStatus.SUCCESS, h.io(1, rw(WRITE, 100, 40, DATA, LIST + 0x100)).status());
    assertArrayEquals(data, Arrays.copyOfRange(file(), 100 * 512, 140 * 512));
    Arrays.fill(h.mem.ram, (int) DATA, (int) DATA + 0x80000, (byte) 0);
    assertEquals(NvmeStatus.SUCCESS, h.io(1, rw(READ, 100, 40, DATA, LIST + 0x100)).status());
    assertArrayEquals(Arrays.copyOfRange(data, 4096, 8192), h.mem.get(pages[0], 4096));
    assertArrayEquals(Arrays.copyOfRange(data, 16384, 20480), h.mem.get(pages[3], 4096));
  }

  @Test
  void chainedPrpListsAtTheLargestTransfer() throws IOException {
    int bytes = Identify.MAX_TRANSFER; // 32 pages: PRP1 + 31 entries
    byte[] data = pattern(bytes, 4);
    long first = DATA + 0x200; // PRP1 with an offset: 33 pages touched, 32 entries
    h.mem.put(first, data);
    long[] entries = new long[32];
    for (int i = 0; i < 32; i++) {
      entries[i] = DATA + 4096L * (i + 1);
    }
    // The first list page has room for 3 entries: 2 data entries and a pointer to the next page.
    long list1 = LIST + 4096 - 24;
    long list2 = LIST - 0x10000;
    putList(list1, entries[0], entries[1], list2);
    putList(list2, Arrays.copyOfRange(entries, 2, 32));
    assertEquals(NvmeStatus.SUCCESS, h.io(1, rw(WRITE, 512, 256, first, list1)).status());
    assertArrayEquals(data, Arrays.copyOfRange(file(), 512 * 512, 512 * 512 + bytes));
    Arrays.fill(h.mem.ram, (int) DATA, (int) DATA + 0x30000, (byte) 0);
    assertEquals(NvmeStatus.SUCCESS, h.io(1, rw(READ, 512, 256, first, list1)).status());
    assertArrayEquals(data, h.mem.get(first, bytes));
  }

  @Test
  void aListThatExactlyFillsItsPageDoesNotChain() throws IOException {
    // 3 pages after PRP1, and a list with exactly 3 slots left in its page: all three are data.
    byte[] data = pattern(4 * 4096, 5);
    h.mem.put(DATA, data);
    long list = LIST + 4096 - 24;
    putList(list, DATA + 4096, DATA + 8192, DATA + 12288);
    assertEquals(NvmeStatus.SUCCESS, h.io(1, rw(WRITE, 0, 32, DATA, list)).status());
    assertArrayEquals(data, Arrays.copyOfRange(file(), 0, 4 * 4096));
  }

  @Test
  void badPrpOffsets() throws IOException {
    byte[] before = file();
    assertEquals(NvmeStatus.INVALID_PRP_OFFSET, h.io(1, rw(WRITE, 0, 1, DATA + 2, 0)).status());
    assertEquals(
        NvmeStatus.INVALID_PRP_OFFSET,
        h.io(1, rw(WRITE, 0, 8, DATA + 512, DATA + 0x10200)).status(),
        "PRP2 as data must be page-aligned");
    assertEquals(
        NvmeStatus.INVALID_PRP_OFFSET,
        h.io(1, rw(WRITE, 0, 24, DATA, LIST + 4)).status(),
        "a list pointer is qword aligned");
    putList(LIST, DATA + 0x1000, DATA + 0x2008);
    assertEquals(
        NvmeStatus.INVALID_PRP_OFFSET,
        h.io(1, rw(WRITE, 0, 24, DATA, LIST)).status(),
        "list entries are page-aligned");
    putList(LIST + 4096 - 16, DATA + 0x1000, LIST - 0x10000 + 8);
    putList(LIST - 0x10000 + 8, DATA + 0x2000);
    assertEquals(
        NvmeStatus.INVALID_PRP_OFFSET,
        h.io(1, rw(WRITE, 0, 24, DATA, LIST + 4096 - 16)).status(),
        "the next list page is page-aligned");
    assertArrayEquals(before, file(), "nothing written");
    Cqe e = h.io(1, rw(READ, 0, 1, DATA + 1, 0));
    assertEquals(0x13, NvmeStatus.code(e.status()));
    assertEquals(0, NvmeStatus.type(e.status()));
    assertEquals(true, NvmeStatus.dnr(e.status()));
  }

  @Test
  void lbaOutOfRange() {
    assertEquals(NvmeStatus.SUCCESS, h.io(1, rw(READ, BLOCKS - 2, 2, DATA, 0)).status());
    assertEquals(NvmeStatus.LBA_OUT_OF_RANGE, h.io(1, rw(READ, BLOCKS - 1, 2, DATA, 0)).status());
    assertEquals(NvmeStatus.LBA_OUT_OF_RANGE, h.io(1, rw(WRITE, BLOCKS, 1, DATA, 0)).status());
    assertEquals(NvmeStatus.LBA_OUT_OF_RANGE, h.io(1, rw(READ, 1L << 32, 1, DATA, 0)).status());
    assertEquals(NvmeStatus.LBA_OUT_OF_RANGE, h.io(1, rw(READ, -1L, 1, DATA, 0)).status());
    assertEquals(
        NvmeStatus.LBA_OUT_OF_RANGE, h.io(1, rw(WRITE_ZEROES, BLOCKS - 3, 4, 0, 0)).status());
    Cqe e = h.io(1, rw(READ, BLOCKS, 1, DATA, 0));
    assertEquals(0x80, NvmeStatus.code(e.status()));
    assertEquals(0, NvmeStatus.type(e.status()));
  }

  @Test
  void transfersOverMdtsAreInvalidField() {
    assertEquals(NvmeStatus.INVALID_FIELD, h.io(1, rw(READ, 0, 257, DATA, LIST)).status());
    assertEquals(NvmeStatus.INVALID_FIELD, h.io(1, rw(WRITE, 0, 65536, DATA, LIST)).status());
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 2, -1, 0x10000})
  void onlyNamespaceOneExists(int nsid) {
    for (int op : new int[] {READ, WRITE, WRITE_ZEROES}) {
      Command c = cmd(op, nsid, DATA, 0, 0, 0, 0);
      assertEquals(NvmeStatus.INVALID_NAMESPACE, h.io(1, c).status(), "opcode " + op);
    }
    int flush = h.io(1, cmd(FLUSH, nsid, 0, 0)).status();
    assertEquals(nsid == -1 ? NvmeStatus.SUCCESS : NvmeStatus.INVALID_NAMESPACE, flush);
  }

  @ParameterizedTest
  @ValueSource(ints = {0x03, 0x04, 0x05, 0x09, 0x0c, 0x11, 0x80, 0xff})
  void otherIoOpcodesAreInvalid(int opcode) {
    assertEquals(NvmeStatus.INVALID_OPCODE, h.io(1, cmd(opcode, 1, DATA, 0)).status());
  }

  @Test
  void writeZeroes() throws IOException {
    byte[] data = pattern(8192, 6);
    h.mem.put(DATA, data);
    h.io(1, rw(WRITE, 20, 16, DATA, DATA + 4096));
    assertEquals(NvmeStatus.SUCCESS, h.io(1, rw(WRITE_ZEROES, 22, 3, 0, 0)).status());
    byte[] expected = data.clone();
    Arrays.fill(expected, 1024, 1024 + 1536, (byte) 0);
    assertArrayEquals(expected, Arrays.copyOfRange(file(), 20 * 512, 36 * 512));
  }

  @Test
  void writeZeroesOfTheWholeDisk() throws IOException {
    h.mem.put(DATA, pattern(4096, 7));
    h.io(1, rw(WRITE, BLOCKS - 8, 8, DATA, 0));
    Command all = cmd(WRITE_ZEROES, 1, 0, 0, 0, 0, (int) BLOCKS - 1);
    assertEquals(NvmeStatus.SUCCESS, h.io(1, all).status());
    assertArrayEquals(new byte[DISK], file());
  }

  @Test
  void flushAndForceUnitAccessSucceed() {
    assertEquals(NvmeStatus.SUCCESS, h.io(1, cmd(FLUSH, 1, 0, 0)).status());
    Command fua = cmd(WRITE, 1, DATA, 0, 0, 0, 1 << 30);
    assertEquals(NvmeStatus.SUCCESS, h.io(1, fua).status());
    h.admin(cmd(AdminCommands.SET_FEATURES, 0, 0, 0, Features.VOLATILE_WRITE_CACHE, 0));
    assertEquals(NvmeStatus.SUCCESS, h.io(1, rw(WRITE, 1, 1, DATA, 0)).status(), "write-through");
  }

  @Test
  void dmaOutsideRamIsADataTransferErrorAndWritesNothing() throws IOException {
    byte[] before = file();
    long edge = HostDriver.RAM - 4096;
    Cqe w = h.io(1, rw(WRITE, 0, 16, edge, HostDriver.RAM));
    assertEquals(NvmeStatus.DATA_TRANSFER_ERROR, w.status());
    assertArrayEquals(before, file(), "a write that cannot read its buffer writes nothing");
    assertEquals(NvmeStatus.DATA_TRANSFER_ERROR, h.io(1, rw(READ, 0, 1, 1L << 40, 0)).status());
    assertEquals(
        NvmeStatus.DATA_TRANSFER_ERROR,
        h.io(1, rw(READ, 0, 24, DATA, 1L << 40)).status(),
        "the PRP list itself");
    assertEquals(NvmeStatus.SUCCESS, h.io(1, rw(READ, 0, 1, DATA, 0)).status(), "still works");
  }

  @Test
  void busMasterOffHoldsEverythingUntilItIsBackOn() {
    h.mem.put(DATA, pattern(512, 8));
    h.pci(false, true, false);
    int cid = h.submit(1, rw(WRITE, 0, 1, DATA, 0));
    h.ring(1);
    assertNull(h.poll(1), "no DMA: not even the fetch");
    h.pci(true, true, false);
    Cqe e = h.poll(1);
    assertNotNull(e);
    assertEquals(cid, e.cid());
    assertEquals(NvmeStatus.SUCCESS, e.status());
  }

  @Test
  void smartCountsIo() {
    h.io(1, rw(WRITE, 0, 8, DATA, 0));
    h.io(1, rw(READ, 0, 4, DATA, 0));
    h.io(1, rw(READ, 0, 4, DATA, 0));
    Cqe e = h.admin(cmd(AdminCommands.GET_LOG_PAGE, -1, DATA, 0, 127 << 16 | LogPages.SMART));
    assertEquals(NvmeStatus.SUCCESS, e.status());
    ByteBuffer smart = ByteBuffer.wrap(h.mem.get(DATA, 512)).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(1, smart.getLong(32), "data units read: 8 blocks, rounded up to a thousand");
    assertEquals(1, smart.getLong(48), "data units written");
    assertEquals(2, smart.getLong(64), "read commands");
    assertEquals(1, smart.getLong(80), "write commands");
  }

  @Test
  void queuesOnSeveralPairsWorkIndependently() throws IOException {
    h.createQueuePair(2, 4, 2);
    h.mem.put(DATA, pattern(512, 9));
    h.mem.put(DATA + 4096, pattern(512, 10));
    h.submit(1, rw(WRITE, 1, 1, DATA, 0));
    h.submit(2, rw(WRITE, 2, 1, DATA + 4096, 0));
    h.ring(2);
    h.ring(1);
    assertNotNull(h.poll(1));
    assertNotNull(h.poll(2));
    assertArrayEquals(pattern(512, 9), Arrays.copyOfRange(file(), 512, 1024));
    assertArrayEquals(pattern(512, 10), Arrays.copyOfRange(file(), 1024, 1536));
  }
}
