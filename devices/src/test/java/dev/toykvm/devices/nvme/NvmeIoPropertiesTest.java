package dev.toykvm.devices.nvme;

import static dev.toykvm.devices.nvme.HostDriver.DATA;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * Random writes, write zeroes and reads through the controller, each with a buffer scattered over
 * random pages at a random dword offset, against a byte array as the reference disk.
 */
class NvmeIoPropertiesTest {
  private static final int BLOCKS = 512; // 256 KiB
  private static final long LIST = 0x700000;

  /** One I/O: kind 0 write, 1 read, 2 write zeroes. */
  record Op(int kind, int lba, int blocks, int offset, long seed) {}

  @Provide
  Arbitrary<Op> ops() {
    return Combinators.combine(
            Arbitraries.integers().between(0, 2),
            Arbitraries.integers().between(0, BLOCKS - 1),
            Arbitraries.integers().between(1, 256),
            Arbitraries.integers().between(0, 1023).map(i -> i * 4),
            Arbitraries.longs())
        .as((k, lba, n, off, seed) -> new Op(k, lba, Math.min(n, BLOCKS - lba), off, seed));
  }

  @Property(tries = 40)
  void theDiskBehavesAsAnArrayOfBlocks(@ForAll @Size(min = 1, max = 12) List<@From("ops") Op> ops)
      throws IOException {
    Path dir = Files.createTempDirectory("nvme-prop");
    byte[] model = new byte[BLOCKS * 512];
    try (HostDriver h = HostDriver.started(dir, 1, model.length)) {
      h.createQueuePair(1, 4, 1);
      for (Op op : ops) {
        int bytes = op.blocks * 512;
        Random r = new Random(op.seed);
        long[] pages = scatter(h, r, op.offset, bytes);
        Command c = HostDriver.rw(opcode(op.kind), op.lba, op.blocks, pages[0] + op.offset, 0);
        c = withPrp2(h, c, pages, op.offset, bytes);
        switch (op.kind) {
          case 0 -> {
            byte[] data = new byte[bytes];
            r.nextBytes(data);
            gatherInto(h, pages, op.offset, data, true);
            System.arraycopy(data, 0, model, op.lba * 512, bytes);
          }
          case 2 -> Arrays.fill(model, op.lba * 512, op.lba * 512 + bytes, (byte) 0);
          default -> {}
        }
        assertEquals(NvmeStatus.SUCCESS, h.io(1, c).status(), op.toString());
        if (op.kind == 1) {
          byte[] got = new byte[bytes];
          gatherInto(h, pages, op.offset, got, false);
          assertArrayEquals(Arrays.copyOfRange(model, op.lba * 512, op.lba * 512 + bytes), got);
        }
      }
      assertArrayEquals(model, Files.readAllBytes(h.disk.file()));
    } finally {
      Files.deleteIfExists(dir.resolve("disk.img"));
      Files.delete(dir);
    }
  }

  private static int opcode(int kind) {
    return switch (kind) {
      case 0 -> IoCommands.WRITE;
      case 1 -> IoCommands.READ;
      default -> IoCommands.WRITE_ZEROES;
    };
  }

  /** Distinct random pages in the data area, enough for {@code bytes} from {@code offset}. */
  private static long[] scatter(HostDriver h, Random r, int offset, int bytes) {
    int n = (offset + bytes + 4095) / 4096;
    List<Integer> slots = new java.util.ArrayList<>();
    for (int i = 0; i < 0x300; i++) { // DATA .. DATA + 3 MiB
      slots.add(i);
    }
    java.util.Collections.shuffle(slots, r);
    long[] pages = new long[n];
    for (int i = 0; i < n; i++) {
      pages[i] = DATA + 4096L * slots.get(i);
    }
    return pages;
  }

  /** PRP2: nothing, the second page, or a list (at a random qword offset that may chain). */
  private static Command withPrp2(HostDriver h, Command c, long[] pages, int offset, int bytes) {
    int n = pages.length;
    if (n == 1) {
      return c;
    }
    long prp2 = pages[1];
    if (n > 2) {
      long list = LIST + 4096 - 8L * Math.min(n - 1, 8); // room for up to 8 entries: may chain
      prp2 = list;
      ByteBuffer b = ByteBuffer.wrap(h.mem.ram).order(ByteOrder.LITTLE_ENDIAN);
      long at = list;
      for (int i = 1; i < n; i++) {
        boolean lastSlot = ((at + 8) & 4095) == 0;
        if (lastSlot && i < n - 1) {
          long next = LIST + 0x10000;
          b.putLong((int) at, next);
          at = next;
        }
        b.putLong((int) at, pages[i]);
        at += 8;
      }
    }
    return new Command(
        c.opcode(), 0, 0, 0, c.nsid(), c.prp1(), prp2, c.cdw10(), c.cdw11(), c.cdw12(), 0, 0, 0);
  }

  /** Copies between {@code data} and the scattered buffer ({@code toGuest}: data into memory). */
  private static void gatherInto(
      HostDriver h, long[] pages, int offset, byte[] data, boolean toGuest) {
    int at = 0;
    for (int i = 0; i < pages.length && at < data.length; i++) {
      int start = i == 0 ? offset : 0;
      int n = Math.min(4096 - start, data.length - at);
      if (toGuest) {
        System.arraycopy(data, at, h.mem.ram, (int) pages[i] + start, n);
      } else {
        System.arraycopy(h.mem.ram, (int) pages[i] + start, data, at, n);
      }
      at += n;
    }
  }
}
