package dev.toykvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class LinuxLoaderTest {
  static final long MEMORY = 128L << 20;
  static final List<E820Entry> MAP = PcMemoryMap.of(MEMORY);

  private static LoadSegment at(BootPlan plan, long address) {
    return plan.pieces().stream()
        .filter(p -> p.address() == address)
        .findFirst()
        .orElseThrow(() -> new AssertionError("nothing at 0x" + Long.toHexString(address)));
  }

  private static ByteBuffer params(BootPlan plan) {
    return ByteBuffer.wrap(at(plan, LinuxLoader.BOOT_PARAMS).bytes())
        .order(ByteOrder.LITTLE_ENDIAN);
  }

  @Test
  void placesTheKernelBootParamsCommandLineAndInitrd() {
    byte[] kernel = LinuxHeaderTest.bzImage();
    byte[] initrd = new byte[5000];
    BootPlan plan = LinuxLoader.plan(kernel, "console=ttyS0", initrd, MAP, false);
    assertEquals(BootPlan.Protocol.LINUX_32, plan.protocol());
    assertEquals(0x100000, plan.entry(), "code32_start");
    assertEquals(LinuxLoader.BOOT_PARAMS, plan.infoAddress());
    LoadSegment pm = at(plan, 0x100000);
    assertEquals(0x1000, pm.bytes().length, "the file after its setup sectors");
    assertEquals((byte) 0xf4, pm.bytes()[0]);
    long initrdAt = (MEMORY - 5000) & -4096L;
    assertEquals(5000, at(plan, initrdAt).bytes().length, "page-aligned, as high as RAM allows");
    assertArrayEquals(
        "console=ttyS0\0".getBytes(StandardCharsets.US_ASCII),
        at(plan, LinuxLoader.CMDLINE).bytes());

    ByteBuffer b = params(plan);
    assertEquals(4096, b.capacity());
    assertEquals(0x53726448, b.getInt(0x202), "the setup header copied");
    assertEquals((short) 0xffff, b.getShort(0x1fa), "vid_mode as the file says");
    assertEquals((byte) 0xff, b.get(0x210), "type_of_loader");
    assertEquals((byte) 0x81, b.get(0x211), "LOADED_HIGH | CAN_USE_HEAP");
    assertEquals((short) 0xfe00, b.getShort(0x224), "heap_end_ptr");
    assertEquals(0x100000, b.getInt(0x214), "code32_start");
    assertEquals(LinuxLoader.CMDLINE, b.getInt(0x228), "cmd_line_ptr");
    assertEquals(initrdAt, b.getInt(0x218), "ramdisk_image");
    assertEquals(5000, b.getInt(0x21c), "ramdisk_size");
    assertEquals(0, b.getInt(0xc0) | b.getInt(0xc4) | b.getInt(0xc8), "ext_ fields");
    assertEquals(0, b.getInt(0x26c), "nothing beyond the header's end copied");
  }

  @Test
  void theE820TableAndMemorySizesComeFromTheMap() {
    BootPlan plan = LinuxLoader.plan(LinuxHeaderTest.bzImage(), "", null, MAP, false);
    ByteBuffer b = params(plan);
    assertEquals(MAP.size(), b.get(0x1e8), "e820_entries");
    for (int i = 0; i < MAP.size(); i++) {
      int o = 0x2d0 + 20 * i;
      assertEquals(
          MAP.get(i),
          new E820Entry(b.getLong(o), b.getLong(o + 8), b.getInt(o + 16)),
          "entry " + i);
    }
    assertEquals((MEMORY - 0x100000) / 1024, b.getInt(0x1e0), "alt_mem_k");
    assertEquals((short) 0xfc00, b.getShort(0x002), "ext_mem_k, capped as SeaBIOS's INT 15h 88h");
    assertEquals(0, b.getInt(0x218) | b.getInt(0x21c), "no initrd");
    ByteBuffer small =
        params(
            LinuxLoader.plan(
                LinuxHeaderTest.bzImage(), "", null, PcMemoryMap.of(32L << 20), false));
    assertEquals((short) (31 * 1024), small.getShort(0x002), "ext_mem_k below the cap");
  }

  @Test
  void theInitrdStaysBelowInitrdAddrMax() {
    ByteBuffer k = LinuxHeaderTest.bzImage(1, 0x1000, 0x4000);
    k.putInt(0x22c, 0x01ff_ffff); // initrd_addr_max: 32 MiB - 1
    BootPlan plan = LinuxLoader.plan(k.array(), "", new byte[0x2001], MAP, false);
    assertEquals(0x2000000 - 0x3000, params(plan).getInt(0x218));
  }

  @Test
  void theSixtyFourBitEntryIsAtPlus0x200InLongMode() {
    BootPlan plan = LinuxLoader.plan(LinuxHeaderTest.bzImage(), "", null, MAP, true);
    assertEquals(BootPlan.Protocol.LINUX_64, plan.protocol());
    assertEquals(0x100200, plan.entry());
    assertEquals(LinuxLoader.PAGE_TABLES, plan.pageTables());
    assertEquals(
        LinuxEntry.pageTables(LinuxLoader.PAGE_TABLES).length,
        at(plan, LinuxLoader.PAGE_TABLES).bytes().length);
    assertArrayEquals(LinuxEntry.gdt(true), at(plan, LinuxLoader.GDT_BASE).bytes());
  }

  private static String error(
      byte[] kernel, String cmdline, byte[] initrd, long memory, boolean entry64) {
    return assertThrows(
            BootFormatException.class,
            () -> LinuxLoader.plan(kernel, cmdline, initrd, PcMemoryMap.of(memory), entry64))
        .getMessage();
  }

  @Test
  void aKernelWithoutTheSixtyFourBitEntryIsRefusedForIt() {
    ByteBuffer k = LinuxHeaderTest.bzImage(1, 0x1000, 0x4000);
    k.putShort(0x236, (short) 0);
    assertEquals(
        "the kernel has no 64-bit entry (XLF_KERNEL_64 clear in xloadflags): boot it 32-bit",
        error(k.array(), "", null, MEMORY, true));
  }

  @Test
  void aKernelWhoseInitSizeExceedsRamIsRefused() {
    byte[] k = LinuxHeaderTest.bzImage(1, 0x1000, 0x180_0000).array();
    assertEquals(
        "the kernel needs [0x100000, 0x1900000) in RAM above 1 MiB (code32_start 0x100000, runs"
            + " at 0x100000 with init_size 25165824 bytes); RAM ends at 0x1000000",
        error(k, "", null, 16L << 20, false));
  }

  @Test
  void aKernelThatRunsAtPrefAddressNeedsRamUpToThereAndInitSize() {
    // as Debian's: loaded at 1 MiB, runs at 16 MiB, init_size 8 MiB: 24 MiB of RAM needed
    ByteBuffer k = LinuxHeaderTest.bzImage(1, 0x1000, 0x80_0000);
    k.putLong(0x258, 0x100_0000);
    assertEquals(
        "the kernel needs [0x100000, 0x1800000) in RAM above 1 MiB (code32_start 0x100000, runs"
            + " at 0x1000000 with init_size 8388608 bytes); RAM ends at 0x1000000",
        error(k.array(), "", null, 16L << 20, false));
    BootPlan plan =
        LinuxLoader.plan(k.array(), "", new byte[0x1000], PcMemoryMap.of(0x1801000), false);
    assertEquals(0x1800000, params(plan).getInt(0x218), "the initrd above where the kernel runs");
  }

  @Test
  void aKernelLoadedBelowOneMibIsRefused() {
    ByteBuffer k = LinuxHeaderTest.bzImage(1, 0x1000, 0x4000);
    k.putInt(0x214, 0x10000);
    assertEquals(
        "the kernel needs [0x10000, 0x14000) in RAM above 1 MiB (code32_start 0x10000, runs at"
            + " 0x10000 with init_size 16384 bytes); RAM ends at 0x8000000",
        error(k.array(), "", null, MEMORY, false));
  }

  @Test
  void aCommandLineLongerThanCmdlineSizeIsRefused() {
    assertEquals(
        "the command line is 2048 bytes; the kernel takes at most 2047 (cmdline_size)",
        error(LinuxHeaderTest.bzImage(), "x".repeat(2048), null, MEMORY, false));
    LinuxLoader.plan(LinuxHeaderTest.bzImage(), "x".repeat(2047), null, MAP, false);
  }

  @Test
  void anInitrdThatDoesNotFitAboveTheKernelIsRefused() {
    // 4 MiB of RAM: the kernel needs [1 MiB, 2 MiB), 2 MiB are left
    byte[] k = LinuxHeaderTest.bzImage(1, 0x1000, 0x10_0000).array();
    assertEquals(
        "the initrd (3145728 bytes) does not fit between the kernel's end 0x200000 and 0x400000"
            + " (initrd_addr_max 0x7fffffff, top of RAM 0x400000)",
        error(k, "", new byte[3 << 20], 4L << 20, false));
    LinuxLoader.plan(k, "", new byte[2 << 20], PcMemoryMap.of(4L << 20), false);
  }

  @Test
  void ramAbove4GiBIsInTheE820TableAndNotInTheOldSizes() {
    long g = 1L << 30;
    List<E820Entry> map = PcMemoryMap.of(5 * g);
    ByteBuffer b = params(LinuxLoader.plan(LinuxHeaderTest.bzImage(), "", null, map, false));
    assertEquals(5, b.get(0x1e8), "e820_entries");
    int o = 0x2d0 + 20 * 4;
    assertEquals(
        new E820Entry(4 * g, 2 * g, E820Entry.RAM),
        new E820Entry(b.getLong(o), b.getLong(o + 8), b.getInt(o + 16)));
    // INT 15h E801h (alt_mem_k) only counts memory below 4 GiB: here up to the hole
    assertEquals((3 * g - 0x100000) / 1024, b.getInt(0x1e0), "alt_mem_k");
  }

  @Test
  void theInitrdStaysBelowTheHoleWhenThereIsRamAbove4GiB() {
    long g = 1L << 30;
    BootPlan plan =
        LinuxLoader.plan(
            LinuxHeaderTest.bzImage(), "", new byte[5000], PcMemoryMap.of(5 * g), false);
    long initrd = params(plan).getInt(0x218) & 0xffff_ffffL;
    org.junit.jupiter.api.Assertions.assertTrue(
        initrd < 3 * g && initrd > 0x100000, "initrd at 0x" + Long.toHexString(initrd));
  }
}
