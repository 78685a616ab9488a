package dev.toykvm.devices.pc;

import static dev.toykvm.devices.pc.FwCfg.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.toykvm.devices.ArrayGuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FwCfgTest {
  private static final long RAM = 128L << 20;
  private final ArrayGuestMemory mem = new ArrayGuestMemory(0x10000);
  private final FwCfg fw = new FwCfg(mem, RAM, 2);

  private void select(int key) {
    fw.write(SELECTOR, 2, key); // outw(key, 0x510)
  }

  private byte[] readData(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) fw.read(DATA, 1); // inb(0x511)
    }
    return b;
  }

  private ByteBuffer item(int key, int n) {
    select(key);
    return ByteBuffer.wrap(readData(n)).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** What a guest does: outl(bswap32(addr >> 32), 0x514); outl(bswap32(addr), 0x518). */
  private void startDma(long access) {
    fw.write(DMA_ADDRESS, 4, Integer.reverseBytes((int) (access >>> 32)) & 0xffff_ffffL);
    fw.write(DMA_ADDRESS + 4, 4, Integer.reverseBytes((int) access) & 0xffff_ffffL);
  }

  private int dma(int at, int control, int length, long address) {
    mem.putBe32(at, control);
    mem.putBe32(at + 4, length);
    mem.putBe64(at + 8, address);
    startDma(at);
    return mem.be32(at);
  }

  @Test
  void theSignatureIsQemu() {
    select(KEY_SIGNATURE);
    assertEquals("QEMU", new String(readData(4), StandardCharsets.US_ASCII));
  }

  @Test
  void theIdSaysTraditionalAndDma() {
    assertEquals(ID_TRADITIONAL | ID_DMA, item(KEY_ID, 4).getInt());
  }

  @Test
  void ramSizeIsAU64AndCpusAU16() {
    assertEquals(RAM, item(KEY_RAM_SIZE, 8).getLong());
    assertEquals(2, item(KEY_NB_CPUS, 2).getShort());
    assertEquals(2, item(FwCfg.KEY_MAX_CPUS, 2).getShort()); // no hotplug: as many as there are
  }

  @Test
  void readsPastTheEndAreZero() {
    select(KEY_SIGNATURE);
    assertArrayEquals(new byte[] {'Q', 'E', 'M', 'U', 0, 0}, readData(6));
  }

  @Test
  void selectingRewindsTheOffset() {
    select(KEY_SIGNATURE);
    readData(3);
    select(KEY_SIGNATURE);
    assertEquals('Q', fw.read(DATA, 1));
  }

  @ParameterizedTest(name = "key 0x{0} reads as zeros")
  @CsvSource({"0002", "0004", "0018", "0021", "3fff", "8000", "8003", "ffff"})
  void keysThatDoNotExistReadAsZeros(String key) {
    select(Integer.parseInt(key, 16));
    assertArrayEquals(new byte[8], readData(8));
  }

  @Test
  void bit14OfTheKeyIsIgnoredAndBit15SelectsTheEmptyArchSpace() {
    select(0x4000 | KEY_SIGNATURE);
    assertEquals("QEMU", new String(readData(4), StandardCharsets.US_ASCII));
    select(KEY_ARCH_LOCAL | KEY_SIGNATURE);
    assertArrayEquals(new byte[4], readData(4));
  }

  @Test
  void bothPortsAreOneRegionAsOnQemu() {
    fw.write(DATA, 2, KEY_SIGNATURE); // a 16-bit write at 0x511 selects too
    assertEquals('Q', fw.read(SELECTOR, 1)); // an 8-bit read at 0x510 reads data
    assertEquals('E', fw.read(DATA, 1));
    fw.write(DATA, 1, 0x55); // data writes are ignored
    assertEquals('M', fw.read(DATA, 1));
    assertEquals(0, fw.oddAccesses());
  }

  @Test
  void invalidAccessesReadAllOnesAndAreCounted() {
    select(KEY_SIGNATURE);
    assertEquals(0xffff, fw.read(DATA, 2));
    assertEquals(0xff, fw.read(2, 1));
    fw.write(DMA_ADDRESS, 2, 0);
    assertEquals(3, fw.oddAccesses());
    assertEquals('Q', fw.read(DATA, 1), "the odd accesses moved nothing");
  }

  @Test
  void theDirectoryListsFilesInBigEndian() {
    byte[] e820 = E820Entry.encode(List.of(new E820Entry(0, 0x9fc00, E820Entry.RAM)));
    assertEquals(KEY_FILE_FIRST, fw.addE820(List.of(new E820Entry(0, 0x9fc00, E820Entry.RAM))));
    assertEquals(KEY_FILE_FIRST + 1, fw.addFile("opt/test", new byte[] {1, 2, 3}));

    select(KEY_FILE_DIR);
    ByteBuffer dir = ByteBuffer.wrap(readData(4 + 2 * 64)); // big-endian
    assertEquals(2, dir.getInt());
    assertEquals(e820.length, dir.getInt());
    assertEquals(KEY_FILE_FIRST, dir.getShort());
    assertEquals(0, dir.getShort());
    assertEquals("etc/e820", name(dir));
    assertEquals(3, dir.getInt());
    assertEquals(KEY_FILE_FIRST + 1, dir.getShort());
    assertEquals(0, dir.getShort());
    assertEquals("opt/test", name(dir));

    select(KEY_FILE_FIRST);
    assertArrayEquals(e820, readData(e820.length));
    select(KEY_FILE_FIRST + 1);
    assertArrayEquals(new byte[] {1, 2, 3, 0}, readData(4));
  }

  private static String name(ByteBuffer dir) {
    byte[] n = new byte[FILE_NAME_SIZE];
    dir.get(n);
    int end = 0;
    while (n[end] != 0) {
      end++;
    }
    assertArrayEquals(new byte[FILE_NAME_SIZE - end], Arrays.copyOfRange(n, end, n.length));
    return new String(n, 0, end, StandardCharsets.US_ASCII);
  }

  @Test
  void anEmptyDirectoryHasACountOfZero() {
    select(KEY_FILE_DIR);
    assertArrayEquals(new byte[4], readData(4));
  }

  @Test
  void badFileNamesAreRejectedAndLoseNothing() {
    fw.addFile("etc/a", new byte[1]);
    assertThrows(IllegalArgumentException.class, () -> fw.addFile("etc/a", new byte[1]));
    assertThrows(IllegalArgumentException.class, () -> fw.addFile("", new byte[1]));
    assertThrows(IllegalArgumentException.class, () -> fw.addFile("x".repeat(56), new byte[1]));
    assertThrows(IllegalArgumentException.class, () -> fw.addFile("etc/\u00e9", new byte[1]));
    assertEquals(KEY_FILE_FIRST + 1, fw.addFile("x".repeat(55), new byte[1]));
    select(KEY_FILE_DIR);
    assertEquals(2, ByteBuffer.wrap(readData(4)).getInt());
  }

  @Test
  void addFileCopiesTheData() {
    byte[] data = {7};
    fw.addFile("opt/x", data);
    data[0] = 8;
    select(KEY_FILE_FIRST);
    assertEquals(7, fw.read(DATA, 1));
  }

  @Test
  void theCpuCountIsChecked() {
    assertThrows(IllegalArgumentException.class, () -> new FwCfg(mem, RAM, 0));
    assertThrows(IllegalArgumentException.class, () -> new FwCfg(mem, RAM, 0x10000));
  }

  @Test
  void theDmaRegisterReadsQemuCfg() {
    assertEquals(0x554d4551L, fw.read(DMA_ADDRESS, 4)); // bytes 'Q' 'E' 'M' 'U'
    assertEquals(0x47464320L, fw.read(DMA_ADDRESS + 4, 4)); // ' ' 'C' 'F' 'G'
    assertEquals(0x51454d5520434647L, Long.reverseBytes(fw.read(DMA_ADDRESS, 8)));
  }

  @Test
  void dmaSelectAndRead() {
    int status = dma(0x100, (KEY_SIGNATURE << 16) | DMA_CTL_SELECT | DMA_CTL_READ, 4, 0x200);
    assertEquals(0, status);
    assertEquals("QEMU", new String(mem.ram, 0x200, 4, StandardCharsets.US_ASCII));
    assertEquals(0, fw.dmaErrors());
  }

  @Test
  void dmaReadPastTheEndFillsZerosAndSharesTheOffsetWithThePort() {
    Arrays.fill(mem.ram, 0x200, 0x210, (byte) 0xaa);
    select(KEY_SIGNATURE);
    assertEquals('Q', fw.read(DATA, 1));
    assertEquals(0, dma(0x100, DMA_CTL_READ, 8, 0x200));
    assertArrayEquals(
        new byte[] {'E', 'M', 'U', 0, 0, 0, 0, 0, (byte) 0xaa},
        Arrays.copyOfRange(mem.ram, 0x200, 0x209));
  }

  @Test
  void dmaSkipAdvancesTheOffsetNoFurtherThanTheEnd() {
    fw.addFile("opt/f", new byte[] {1, 2, 3, 4});
    assertEquals(0, dma(0x100, (KEY_FILE_FIRST << 16) | DMA_CTL_SELECT | DMA_CTL_SKIP, 2, 0));
    assertEquals(3, fw.read(DATA, 1));
    assertEquals(0, dma(0x100, DMA_CTL_SKIP, 100, 0));
    assertEquals(0, fw.read(DATA, 1));
  }

  @Test
  void dmaSelectAloneOnlySelects() {
    assertEquals(0, dma(0x100, (KEY_NB_CPUS << 16) | DMA_CTL_SELECT, 100, 0x200));
    assertEquals(2, fw.read(DATA, 1));
  }

  @Test
  void dmaWriteFailsBecauseEveryItemIsReadOnly() {
    assertEquals(
        DMA_CTL_ERROR, dma(0x100, (KEY_SIGNATURE << 16) | DMA_CTL_SELECT | DMA_CTL_WRITE, 4, 0));
    select(KEY_SIGNATURE);
    assertEquals('Q', fw.read(DATA, 1));
    assertEquals(1, fw.dmaErrors());
  }

  @Test
  void readWinsOverWriteAndSkip() {
    int all = DMA_CTL_SELECT | DMA_CTL_READ | DMA_CTL_WRITE | DMA_CTL_SKIP;
    assertEquals(0, dma(0x100, (KEY_SIGNATURE << 16) | all, 1, 0x200));
    assertEquals('Q', mem.ram[0x200]);
  }

  @Test
  void dmaOutsideGuestRamSetsTheErrorBit() {
    int ctl = (KEY_SIGNATURE << 16) | DMA_CTL_SELECT | DMA_CTL_READ;
    assertEquals(DMA_CTL_ERROR, dma(0x100, ctl, 4, 0xfffe)); // runs past the end of RAM
    assertEquals(DMA_CTL_ERROR, dma(0x100, ctl, 4, 0x1_0000_0000L));
    assertEquals(DMA_CTL_ERROR, dma(0x100, ctl, 0x20000, 0x200)); // zeros run past the end
    assertEquals(3, fw.dmaErrors());
  }

  @Test
  void aDmaStructureOutsideRamIsAnErrorNotAnException() {
    startDma(0x1_0000_0000L);
    startDma(0xffff_fff8L);
    assertEquals(2, fw.dmaErrors());
  }

  @Test
  void aSixtyFourBitWriteStartsDmaAndTheHighHalfIsClearedAfterAnOperation() {
    mem.putBe32(0x100, (KEY_SIGNATURE << 16) | DMA_CTL_SELECT | DMA_CTL_READ);
    mem.putBe32(0x104, 1);
    mem.putBe64(0x108, 0x300);
    fw.write(DMA_ADDRESS, 8, Long.reverseBytes(0x100L));
    assertEquals('Q', mem.ram[0x300]);

    fw.write(DMA_ADDRESS, 4, Integer.reverseBytes(1) & 0xffff_ffffL); // high half 1: not RAM
    fw.write(DMA_ADDRESS + 4, 4, Integer.reverseBytes(0x100) & 0xffff_ffffL);
    assertEquals(1, fw.dmaErrors());
    mem.ram[0x300] = 0;
    mem.putBe32(0x100, (KEY_SIGNATURE << 16) | DMA_CTL_SELECT | DMA_CTL_READ);
    fw.write(DMA_ADDRESS + 4, 4, Integer.reverseBytes(0x100) & 0xffff_ffffL); // low half alone
    assertEquals(0, mem.be32(0x100));
    assertEquals('Q', mem.ram[0x300]);
  }

  @Test
  void anE820EntryIsTwentyBytesLittleEndian() {
    byte[] b =
        E820Entry.encode(
            List.of(
                new E820Entry(0x10_0000, 0x7f0_0000, E820Entry.RAM),
                new E820Entry(0xfeff_c000L, 0x4000, E820Entry.RESERVED)));
    ByteBuffer e = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(40, b.length);
    assertEquals(0x10_0000, e.getLong());
    assertEquals(0x7f0_0000, e.getLong());
    assertEquals(1, e.getInt());
    assertEquals(0xfeff_c000L, e.getLong());
    assertEquals(0x4000, e.getLong());
    assertEquals(2, e.getInt());
  }

  @Test
  void anE820EntryIsNeverEmptyNorPast2To64() {
    assertThrows(IllegalArgumentException.class, () -> new E820Entry(0, 0, E820Entry.RAM));
    assertThrows(IllegalArgumentException.class, () -> new E820Entry(-4096, 8192, E820Entry.RAM));
    new E820Entry(-4096, 4096, E820Entry.RESERVED);
  }
}
