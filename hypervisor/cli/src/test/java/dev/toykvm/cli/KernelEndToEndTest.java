package dev.toykvm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.images.TestKernels;
import dev.toykvm.vmm.ExitCodes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Boots multiboot kernels with {@code toykvm run --kernel}, in-process, on the real kernel side.
 */
@Tag("e2e")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KernelEndToEndTest {
  @TempDir Path dir;

  /** What mbtest prints on QEMU too (guest-firmware/README.md has the QEMU command). */
  static final List<String> MBTEST_OUTPUT =
      List.of(
          "mbtest: multiboot test kernel",
          "ok   multiboot magic 0x2BADB002 in EAX",
          "ok   1 MiB of .bss, zeroed",
          "ok   fw_cfg signature QEMU",
          "fw_cfg cpus: 1",
          "fw_cfg ram: 128 MiB",
          "ok   fw_cfg DMA read of the signature",
          "ok   fw_cfg file etc/e820 listed",
          "ok   etc/e820: RAM from 1 MiB up to the fw_cfg RAM size",
          "ok   mem_lower between 512 and 640 KiB",
          "ok   mem_upper reaches the last MiB of RAM",
          "ok   memory map: RAM from 1 MiB to the top",
          "cmdline: hello world",
          "modules: 2",
          "module 0: 10 bytes, page-aligned yes, args: arg1 arg2, first byte: M",
          "module 1: 3 bytes, page-aligned yes, args: , first byte: x",
          "ok   pc-testdev scratch register",
          "ok   pc-testdev scratch register again",
          "ok   pc-testdev memory at 0xff000000",
          "mbtest: PASS");

  @ParameterizedTest
  @ValueSource(strings = {"mbtest", "mbtest-4m"})
  void mbtestPassesWithItsCommandLineModulesAndDevices(String name) throws IOException {
    Path kernel = TestKernels.extract(name, dir);
    Path m1 = Files.writeString(dir.resolve("m1"), "MODULE-ONE");
    Path m2 = Files.writeString(dir.resolve("m2"), "xyz");
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--timeout",
            "60s",
            "--kernel",
            kernel.toString(),
            "--append",
            "hello world",
            "--initrd",
            m1 + " arg1 arg2," + m2);
    assertEquals(MBTEST_OUTPUT, r.out().lines().toList(), "stderr: " + r.err());
    assertEquals(1, r.status(), "QEMU's isa-debug-exit: (0 << 1) | 1; stderr: " + r.err());
  }

  /** With 5 GiB the RAM from 1 MiB ends below the PCI hole and the rest is at 4 GiB. */
  @Test
  void mbtestPassesWithRamAbove4GiB() throws IOException {
    Path kernel = TestKernels.extract("mbtest", dir);
    Path m1 = Files.writeString(dir.resolve("m1"), "MODULE-ONE");
    Path m2 = Files.writeString(dir.resolve("m2"), "xyz");
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--timeout",
            "60s",
            "--memory",
            "5G",
            "--kernel",
            kernel.toString(),
            "--append",
            "hello world",
            "--initrd",
            m1 + " arg1 arg2," + m2);
    List<String> want = new java.util.ArrayList<>(MBTEST_OUTPUT);
    want.set(want.indexOf("fw_cfg ram: 128 MiB"), "fw_cfg ram: 5120 MiB");
    assertEquals(want, r.out().lines().toList(), "stderr: " + r.err());
    assertEquals(1, r.status(), "stderr: " + r.err());
  }

  @Test
  void rawDebugExitGivesTheByteWritten() throws IOException {
    Path kernel = TestKernels.extract("mbtest", dir);
    MainTest.Result r =
        MainTest.toykvm(
            "run", "--timeout", "60s", "--debug-exit", "raw", "--kernel", kernel.toString());
    assertTrue(r.out().contains("mbtest: PASS"), r.out() + r.err());
    assertTrue(r.out().contains("modules: 0"), r.out());
    assertEquals(0, r.status(), r.err());
  }

  /** An a.out-kludge kernel at 1 MiB whose code is {@code code}. */
  private Path aoutKernel(byte[] code) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(32 + code.length).order(ByteOrder.LITTLE_ENDIAN);
    int flags = 1 << 16;
    b.putInt(0x1BADB002).putInt(flags).putInt(-(0x1BADB002 + flags));
    b.putInt(0x100000).putInt(0x100000).putInt(0).putInt(0).putInt(0x100020);
    b.put(code);
    return Files.write(dir.resolve("aout.bin"), b.array());
  }

  @Test
  void i8042ResetEndsTheVmWithItsOwnStatus() throws IOException {
    // mov al, 0xfe; out 0x64, al; hlt
    Path kernel = aoutKernel(new byte[] {(byte) 0xb0, (byte) 0xfe, (byte) 0xe6, 0x64, (byte) 0xf4});
    MainTest.Result r = MainTest.toykvm("run", "--timeout", "60s", "--kernel", kernel.toString());
    assertEquals(ExitCodes.RESET, r.status(), r.err());
    assertTrue(r.err().contains("toykvm: guest reset the machine"), r.err());
  }

  @Test
  void theEntryStateIsMultibootsAndTheDebugConsoleWrites() throws IOException {
    // cmp eax, 0x2badb002; jne bad; mov al, [ebx] (flags, low byte); out 0x402, al via dx;
    // mov al, 0; out 0xf4, al; bad: mov al, 9; out 0xf4, al
    byte[] code = {
      0x3d,
      0x02,
      (byte) 0xb0,
      (byte) 0xad,
      0x2b, // cmp eax, 0x2badb002
      0x75,
      0x0d, // jne +13
      (byte) 0x66,
      (byte) 0xba,
      0x02,
      0x04, // mov dx, 0x402
      (byte) 0xb0,
      'K', // mov al, 'K'
      (byte) 0xee, // out dx, al
      (byte) 0xb0,
      0x05, // mov al, 5
      (byte) 0xe6,
      (byte) 0xf4, // out 0xf4, al
      (byte) 0xf4,
      (byte) 0xf4, // hlt (not reached)
      (byte) 0xb0,
      0x09, // bad: mov al, 9
      (byte) 0xe6,
      (byte) 0xf4 // out 0xf4, al
    };
    Path kernel = aoutKernel(code);
    Path log = dir.resolve("debugcon.log");
    MainTest.Result r =
        MainTest.toykvm(
            "run",
            "--timeout",
            "60s",
            "--debug-exit",
            "raw",
            "--debugcon",
            log.toString(),
            "--kernel",
            kernel.toString());
    assertEquals(5, r.status(), "EAX held the multiboot magic; stderr: " + r.err());
    assertEquals("K", Files.readString(log));
  }

  @Test
  void badKernelsGetOneLineAndExit65() throws IOException {
    Path noHeader = Files.write(dir.resolve("plain.bin"), new byte[4096]);
    Path big = TestKernels.extract("mbtest", dir);
    record Case(List<String> args, String line) {}
    List<Case> cases =
        List.of(
            new Case(
                List.of("--kernel", dir.resolve("missing.elf").toString()),
                "toykvm: cannot load kernel " + dir.resolve("missing.elf") + ": no such file"),
            new Case(
                List.of("--kernel", noHeader.toString()),
                "toykvm: cannot load kernel "
                    + noHeader
                    + ": no multiboot header in the first 8 KiB"),
            new Case(
                List.of("--kernel", big.toString(), "--initrd", dir.resolve("nope").toString()),
                "toykvm: cannot load kernel "
                    + big
                    + ": module "
                    + dir.resolve("nope")
                    + ": no such file"),
            new Case(
                List.of("--kernel", dir.toString()),
                "toykvm: cannot load kernel " + dir + ": not a regular file"));
    for (Case c : cases) {
      List<String> args = new java.util.ArrayList<>(List.of("run"));
      args.addAll(c.args());
      MainTest.Result r = MainTest.toykvm(args.toArray(String[]::new));
      assertEquals(ExitCodes.IMAGE, r.status(), c + ": " + r.err());
      assertEquals(List.of(c.line()), r.err().lines().toList(), c.toString());
    }
  }

  @Test
  void aSegmentOutsideRamGetsItsLine() throws IOException {
    // an a.out kernel loaded at 2 MiB on a 2 MiB machine
    ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    int flags = 1 << 16;
    b.putInt(0x1BADB002).putInt(flags).putInt(-(0x1BADB002 + flags));
    b.putInt(0x200000).putInt(0x200000).putInt(0).putInt(0).putInt(0x200020);
    Path k = Files.write(dir.resolve("high.bin"), b.array());
    MainTest.Result r = MainTest.toykvm("run", "--memory", "2M", "--kernel", k.toString());
    assertEquals(ExitCodes.IMAGE, r.status(), r.err());
    assertEquals(
        List.of("toykvm: cannot load kernel " + k + ": segment [0x200000, 0x200040) outside RAM"),
        r.err().lines().toList());
  }

  @Test
  void qemuDebugExitWorksForImagesToo() {
    MainTest.Result r = MainTest.toykvm("run", "--timeout", "60s", "--debug-exit", "qemu", "hello");
    assertEquals(1, r.status(), "hello writes 0: (0 << 1) | 1; stderr: " + r.err());
  }

  @Test
  void imageAndKernelTogetherIsAUsageError() throws IOException {
    Path kernel = TestKernels.extract("mbtest", dir);
    MainTest.Result r = MainTest.toykvm("run", "hello", "--kernel", kernel.toString());
    assertEquals(ExitCodes.USAGE, r.status(), r.err());
    MainTest.Result none = MainTest.toykvm("run");
    assertEquals(ExitCodes.USAGE, none.status(), none.err());
    MainTest.Result mode =
        MainTest.toykvm("run", "--debug-exit", "bochs", "--kernel", kernel.toString());
    assertEquals(ExitCodes.USAGE, mode.status(), mode.err());
  }
}
