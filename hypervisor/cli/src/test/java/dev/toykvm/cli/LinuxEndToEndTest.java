package dev.toykvm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.images.TestKernels;
import dev.toykvm.vmm.ExitCodes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Boots the Linux boot protocol payload {@code linuxtest} with {@code toykvm run --kernel}, in
 * process, on the real kernel side; its lines are what it prints on QEMU too (the command in
 * guest-firmware/README.md).
 */
@Tag("e2e")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LinuxEndToEndTest {
  @TempDir Path dir;

  /** What linuxtest prints, given its command line, memory and initrd (null: none). */
  static List<String> expected(boolean entry64, String cmdline, int memoryMib, byte[] initrd) {
    List<String> l = new ArrayList<>();
    l.add("linuxtest: Linux boot protocol test payload");
    if (entry64) {
      l.add("entry: 64-bit protocol");
      l.add("ok   entry mode: long mode, paging on (CR0.PG, CR4.PAE, EFER.LME|LMA)");
    } else {
      l.add("entry: 32-bit protocol");
      l.add("ok   entry mode: protected mode, paging off");
    }
    l.addAll(
        List.of(
            "ok   entry: CS __BOOT_CS 0x10, DS/ES/SS __BOOT_DS 0x18",
            "ok   entry: interrupts off",
            "ok   entry: ESI points to boot_params (HdrS at 0x202)",
            "ok   entry: EBX, EBP and EDI zero",
            "ok   setup header copied into boot_params (version 2.15, boot_flag, init_size)",
            "ok   type_of_loader set (0xff undefined, or QEMU's 0xb0)",
            "ok   loadflags: LOADED_HIGH and CAN_USE_HEAP",
            "ok   heap_end_ptr set",
            "ok   code32_start is where this code runs",
            "ok   cmd_line_ptr set (below 4 GiB)",
            "ok   command line within cmdline_size",
            "cmdline: " + cmdline,
            "fw_cfg ram: " + memoryMib + " MiB",
            "ok   e820_entries: a map of 3 to 128 ranges",
            "ok   e820: RAM from 0 up to between 512 and 640 KiB",
            "ok   e820: no RAM in the hole [640 KiB, 1 MiB)",
            "ok   e820: RAM from 1 MiB into the last MiB of RAM",
            "ok   alt_mem_k: memory above 1 MiB up to the last MiB of RAM",
            "ok   ext_mem_k: memory above 1 MiB, capped at 64 MiB"));
    if (initrd == null) {
      l.add("ok   no initrd: ramdisk_image and ramdisk_size 0");
      l.add("initrd: none");
    } else {
      l.add("ok   initrd page-aligned");
      l.add("ok   initrd above the kernel, in RAM, below initrd_addr_max");
      l.add("ok   initrd placed high: it ends in the last MiB of RAM");
      l.add("ok   ext_ramdisk_image and ext_ramdisk_size zero");
      int hash = 0;
      StringBuilder start = new StringBuilder();
      for (int i = 0; i < initrd.length; i++) {
        hash = hash * 31 + (initrd[i] & 0xff);
      }
      for (int i = 0; i < initrd.length && i < 16 && initrd[i] >= 0x20 && initrd[i] < 0x7f; i++) {
        start.append((char) initrd[i]);
      }
      l.add(
          String.format(
              "initrd: %d bytes, hash 0x%08x, starts with: %s", initrd.length, hash, start));
    }
    l.add("linuxtest: PASS");
    return l;
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "32 | 128 | console=ttyS0 hello=world | INITRD-CONTENTS-0123456789",
        "32 | 32  | ''                        | ''",
        "32 | 2   | root=/dev/ram0 a b c      | ''",
        "64 | 128 | console=ttyS0 earlyprintk | TINY",
        "64 | 512 | x                         | BIG",
        "32 | 5120 | above=4G                 | INITRD-BELOW-THE-PCI-HOLE",
        "64 | 5120 | ''                       | TINY",
      })
  void linuxtestPassesWithItsCommandLineMemoryAndInitrd(
      int bits, int memoryMib, String cmdline, String initrdKind) throws IOException {
    Path kernel = TestKernels.extract("linuxtest", dir);
    byte[] initrd =
        switch (initrdKind) {
          case "" -> null;
          case "BIG" -> bigInitrd();
          default -> initrdKind.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        };
    List<String> args =
        new ArrayList<>(
            List.of(
                "run",
                "--timeout",
                "60s",
                "--memory",
                memoryMib + "M",
                "--linux-entry",
                String.valueOf(bits),
                "--kernel",
                kernel.toString(),
                "--append",
                cmdline));
    if (initrd != null) {
      args.add("--initrd");
      args.add(Files.write(dir.resolve("initrd"), initrd).toString());
    }
    MainTest.Result r = MainTest.toykvm(args.toArray(String[]::new));
    assertEquals(
        expected(bits == 64, cmdline, memoryMib, initrd),
        r.out().lines().toList(),
        "stderr: " + r.err());
    assertEquals(1, r.status(), "QEMU's isa-debug-exit: (0 << 1) | 1; stderr: " + r.err());
  }

  /** 3 MiB and a bit of a pattern, so that its hash depends on every byte. */
  private static byte[] bigInitrd() {
    byte[] b = new byte[(3 << 20) + 123];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (i * 7 + (i >> 12));
    }
    b[0] = 'B';
    b[1] = 'I';
    b[2] = 'G';
    b[3] = 0;
    return b;
  }

  /** linuxtest with {@code patch} applied to its bytes (little-endian), written to a file. */
  private Path patched(String name, Consumer<ByteBuffer> patch) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(TestKernels.load("linuxtest")).order(ByteOrder.LITTLE_ENDIAN);
    patch.accept(b);
    return Files.write(dir.resolve(name), b.array());
  }

  @Test
  void badLinuxKernelsGetOneLineAndExit65() throws IOException {
    record Case(List<String> args, String why) {}
    Path old = patched("old", b -> b.putShort(0x206, (short) 0x0201));
    Path zimage = patched("zimage", b -> b.put(0x211, (byte) 0));
    Path sects = patched("sects", b -> b.put(0x1f1, (byte) 100));
    Path cut = patched("cut", b -> b.putInt(0x1f4, 0x10000));
    Path huge = patched("huge", b -> b.putInt(0x260, 0x400_0000)); // init_size 64 MiB
    Path no64 = patched("no64", b -> b.putShort(0x236, (short) 0));
    Path ok = TestKernels.extract("linuxtest", dir);
    Path initrd = Files.write(dir.resolve("initrd3m"), new byte[3 << 20]);
    List<Case> cases =
        List.of(
            new Case(
                List.of("--kernel", old.toString()),
                "Linux boot protocol 2.01 is too old: toykvm needs 2.02 or later (cmd_line_ptr)"),
            new Case(
                List.of("--kernel", zimage.toString()),
                "not a bzImage (LOADED_HIGH clear): a zImage needs the real-mode loader at"
                    + " 0x10000"),
            new Case(
                List.of("--kernel", sects.toString()),
                "100 setup sectors (51712 bytes) leave nothing of the "
                    + Files.size(sects)
                    + "-byte file for the kernel"),
            new Case(
                List.of("--kernel", cut.toString()),
                "the protected-mode part is cut short: syssize says 1048576 bytes, the file holds "
                    + (Files.size(cut) - 1024)),
            new Case(
                List.of("--memory", "32M", "--kernel", huge.toString()),
                "the kernel needs [0x100000, 0x4100000) in RAM above 1 MiB (code32_start 0x100000,"
                    + " runs at 0x100000 with init_size 67108864 bytes); RAM ends at 0x2000000"),
            new Case(
                List.of("--linux-entry", "64", "--kernel", no64.toString()),
                "the kernel has no 64-bit entry (XLF_KERNEL_64 clear in xloadflags): boot it"
                    + " 32-bit"),
            new Case(
                List.of("--kernel", ok.toString(), "--append", "x".repeat(2048)),
                "the command line is 2048 bytes; the kernel takes at most 2047 (cmdline_size)"),
            new Case(
                List.of("--memory", "4M", "--kernel", ok.toString(), "--initrd", initrd.toString()),
                "the initrd (3145728 bytes) does not fit between the kernel's end 0x106000 and"
                    + " 0x400000 (initrd_addr_max 0x7fffffff, top of RAM 0x400000)"),
            new Case(
                List.of("--kernel", ok.toString(), "--initrd", dir.resolve("nope").toString()),
                "initrd " + dir.resolve("nope") + ": no such file"));
    for (Case c : cases) {
      List<String> args = new ArrayList<>(List.of("run"));
      args.addAll(c.args());
      MainTest.Result r = MainTest.toykvm(args.toArray(String[]::new));
      assertEquals(ExitCodes.IMAGE, r.status(), c + ": " + r.err());
      String file = c.args().get(c.args().indexOf("--kernel") + 1);
      assertEquals(
          List.of("toykvm: cannot load kernel " + file + ": " + c.why()),
          r.err().lines().toList(),
          c.toString());
    }
  }

  @Test
  void linuxEntryIsThirtyTwoOrSixtyFourWithAKernel() throws IOException {
    Path ok = TestKernels.extract("linuxtest", dir);
    MainTest.Result bad = MainTest.toykvm("run", "--linux-entry", "16", "--kernel", ok.toString());
    assertEquals(ExitCodes.USAGE, bad.status(), bad.err());
    assertEquals(
        List.of("toykvm: --linux-entry is 32 or 64, with --kernel"), bad.err().lines().toList());
    MainTest.Result image = MainTest.toykvm("run", "--linux-entry", "32", "hello");
    assertEquals(ExitCodes.USAGE, image.status(), image.err());
  }
}
