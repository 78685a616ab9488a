package dev.toykvm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.vmm.ExitCodes;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Misuse of {@code toykvm run}: every bad image and every bad device spec gets one line that says
 * what is wrong, and the documented exit status, at once (no VM, no device process, no hang).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BadInputTest {

  private static String firstLine(String text) {
    int nl = text.indexOf('\n');
    return nl < 0 ? text : text.substring(0, nl);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "testdev,pio=-1|pio=-1 is negative",
        "testdev,pio=0x10000|port 0x10000 is outside the 16-bit port space (0..0xffff)",
        "testdev,pio=0xfff0,size=0x20|ports 0xfff0..0x1000f do not fit the 16-bit port space"
            + " (0..0xffff)",
        "testdev,pio=0x10,size=0x7fffffffffffffff|ports 0x10..0x800000000000000e do not fit the"
            + " 16-bit port space (0..0xffff)",
        "testdev,mmio=0x1000000000|address 0x1000000000 is above the 36-bit guest-physical space"
            + " (0..0xfffffffff)",
        "testdev,mmio=0xffffffff00000000,size=0x1000|address 0xffffffff00000000 is above the"
            + " 36-bit guest-physical space (0..0xfffffffff)",
        "testdev,mmio=0xfeb00000,size=0x1000000000|the MMIO range 0xfeb00000..0x10feafffff passes"
            + " the 36-bit guest-physical limit 0xfffffffff",
        "testdev,mmio=0xfeb00000,size=0xffffffffffffffff|size=0xffffffffffffffff is too large",
        "testdev,mmio=0x1fffffffffffffffff|mmio=0x1fffffffffffffffff is too large",
        "testdev,pio=99999999999999999999|pio=99999999999999999999 is too large",
        "testdev,mmio=0xfeb00000,size=-4096|size=-4096 is negative",
        "testdev,pio=0x1234,size=0|size must be at least 1",
        "testdev,pio=0x1234,size=lots|size=lots is not a number (decimal or 0x hex)",
        "virtio,pio=0x1234|unknown device 'virtio'; known: uart, testdev, pc-testdev, nvme,"
            + " exec=PATH",
        "nvme,pio=0x1234|pio= is not for nvme: it is a PCI function, whose BARs firmware or the"
            + " VMM places",
        "nvme,size=4096|nvme needs disk=FILE (created if absent)",
        "nvme,disk=d.img,queues=32|queues=32 is not 1-16 (I/O queue pairs)",
        "exec=/bin/true,pio=0x1234|an exec= device needs size=BYTES",
        "exec=/bin/true,pio=0x1234,size=8,route=in-process|an exec= device is a separate program;"
            + " route=in-process is impossible",
        "testdev,pio=0x1234,route=vmm,posted=on|posted=on needs route=ioregionfd",
        "testdev,pio=0x1234,name=|name= needs a name",
      })
  void badDeviceSpecsAreUsageErrorsWithOneLine(String spec, String why) {
    MainTest.Result r = MainTest.toykvm("run", "--device", spec, "hello");
    assertEquals(ExitCodes.USAGE, r.status(), r.err());
    assertEquals(
        "toykvm: Invalid value for option '--device' (SPEC): '" + spec + "': " + why,
        firstLine(r.err()));
    assertEquals("", r.out());
  }

  @Test
  void aDirectoryIsNotAnImage(@TempDir Path dir) {
    assertImageError(
        dir.toString(), "cannot load image " + dir + ": not a regular file (it is a directory)");
  }

  @Test
  void devZeroIsNotReadForever() {
    assertImageError(
        "/dev/zero", "cannot load image /dev/zero: not a regular file (a character device)");
  }

  /** A FIFO nobody writes to would block the open: it is refused before. */
  @Test
  void aFifoIsNotOpened(@TempDir Path dir) throws Exception {
    Path fifo = dir.resolve("rom.bin");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assertEquals(0, mkfifo.waitFor());
    assertImageError(
        fifo.toString(), "cannot load image " + fifo + ": not a regular file (a FIFO)");
  }

  @Test
  void aHugeFileIsNotRead(@TempDir Path dir) throws Exception {
    Path huge = dir.resolve("huge.bin");
    try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
      f.setLength(8L << 30); // sparse: 8 GiB that take no disk
    }
    assertImageError(
        huge.toString(),
        "cannot load image " + huge + ": larger than 65536 bytes (the file has 8589934592)");
  }

  @Test
  void anEmptyFileIsNotAnImage(@TempDir Path dir) throws Exception {
    Path empty = Files.createFile(dir.resolve("empty.bin"));
    assertImageError(
        empty.toString(),
        "cannot load image " + empty + ": the file is empty; an image has 65536 bytes");
  }

  @Test
  void aManifestThatIsAFifoIsNotOpened(@TempDir Path dir) throws Exception {
    Path rom = dir.resolve("rom.bin");
    Files.write(rom, new byte[65536]);
    Path manifest = dir.resolve("rom.manifest");
    assertEquals(0, new ProcessBuilder("mkfifo", manifest.toString()).start().waitFor());
    assertImageError(
        rom.toString(), "cannot load image " + manifest + ": not a regular file (a FIFO)");
  }

  private static void assertImageError(String image, String message) {
    MainTest.Result r = MainTest.toykvm("run", image);
    assertEquals(ExitCodes.IMAGE, r.status(), r.err());
    assertEquals("toykvm: " + message + "\n", r.err());
    assertEquals("", r.out());
  }
}
