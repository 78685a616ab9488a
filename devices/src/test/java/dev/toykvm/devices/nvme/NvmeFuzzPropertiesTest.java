package dev.toykvm.devices.nvme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
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
 * Whatever a guest writes to BAR0 and puts in its queues, the controller never throws, and after a
 * reset it works again. Submission entries are random bytes with a plausible opcode and a few
 * plausible fields, so the commands reach deep into the checks rather than failing at the first.
 */
class NvmeFuzzPropertiesTest {
  private static final int[] OFFSETS = {
    0x00, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x28, 0x2c, 0x30, 0x34, 0x38,
    0x1000, 0x1004, 0x1008, 0x100c, 0x1010, 0x1014, 0x1018, 0x3ffc, 0x3ff9, 0x4000
  };

  record Access(int offset, int size, long value, boolean read) {}

  @Provide
  Arbitrary<Access> accesses() {
    Arbitrary<Access> doorbells =
        Combinators.combine(
                Arbitraries.of(0x1000, 0x1000, 0x1004, 0x1008, 0x100c, 0x1010, 0x1014),
                Arbitraries.longs().between(0, 34))
            .as((offset, value) -> new Access(offset, 4, value, false));
    Arbitrary<Integer> offset =
        Arbitraries.oneOf(
            Arbitraries.integers().between(0, OFFSETS.length - 1).map(i -> OFFSETS[i]),
            Arbitraries.integers().between(-8, 0x4008));
    Arbitrary<Long> value =
        Arbitraries.oneOf(
            Arbitraries.longs().between(0, 40),
            Arbitraries.of((long) HostDriver.CC_ENABLE, 0L, (long) HostDriver.CC_ENABLE | 1 << 14),
            Arbitraries.longs());
    Arbitrary<Access> anything =
        Combinators.combine(
                offset, Arbitraries.of(1, 2, 4, 4, 4, 8), value, Arbitraries.of(false, true))
            .as(Access::new);
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(6, doorbells), net.jqwik.api.Tuple.of(1, anything));
  }

  @Property(tries = 60)
  void theGuestCannotBreakTheController(
      @ForAll @Size(min = 20, max = 80) List<@From("accesses") Access> accesses, @ForAll long seed)
      throws IOException {
    Path dir = Files.createTempDirectory("nvme-fuzz");
    Path file = dir.resolve("d.img");
    try (HostDriver h =
        new HostDriver(NvmeConfig.of(2), NvmeDisk.open(file, OptionalLong.of(64 << 10)))) {
      Random r = new Random(seed);
      h.pci(true, r.nextBoolean(), r.nextBoolean());
      h.enable(32, 32);
      if (r.nextBoolean()) { // I/O queues to run random I/O commands in
        h.createQueuePair(1, 32, 1);
        h.createQueuePair(2, 32, 2);
      }
      scribbleQueues(h, r);
      for (Access a : accesses) {
        if (a.read) {
          h.ctrl.read(a.offset, a.size);
        } else {
          h.ctrl.write(a.offset, a.size, a.value);
        }
        if (r.nextInt(20) == 0) {
          h.pci(r.nextInt(5) > 0, r.nextBoolean(), r.nextBoolean());
        }
      }
      // Reset, and the controller works as new.
      h.disable();
      assertEquals(0, h.reg32(NvmeRegisters.CSTS));
      java.util.Arrays.fill(h.mem.ram, (int) HostDriver.ASQ, (int) HostDriver.ACQ + 4096, (byte) 0);
      h.pci(true, true, false);
      h.enable(4, 4);
      assertTrue(h.admin(HostDriver.cmd(AdminCommands.IDENTIFY, 0, HostDriver.DATA, 0, 1)).ok());
    } finally {
      Files.deleteIfExists(file);
      Files.delete(dir);
    }
  }

  /** Random commands in every queue's ring, with opcodes and fields that commands use. */
  private static void scribbleQueues(HostDriver h, Random r) {
    ByteBuffer b = ByteBuffer.wrap(h.mem.ram).order(ByteOrder.LITTLE_ENDIAN);
    for (int q = 0; q <= 2; q++) {
      for (int i = 0; i < 32; i++) {
        int at = (int) HostDriver.sqBase(q) + 64 * i;
        byte[] sqe = new byte[64];
        r.nextBytes(sqe);
        h.mem.put(at, sqe);
        int opcode = r.nextInt(4) == 0 ? r.nextInt(256) : r.nextInt(13);
        int flags = r.nextInt(4) == 0 ? r.nextInt(4) << 8 : 0;
        b.putInt(at, opcode | flags | (r.nextInt() & 0xffff0000));
        if (r.nextBoolean()) {
          b.putInt(at + 4, r.nextInt(3)); // NSID 0-2
        }
        if (r.nextBoolean()) {
          b.putLong(at + 24, HostDriver.DATA + 4096L * r.nextInt(16) + 4L * r.nextInt(4)); // PRP1
          b.putLong(at + 32, HostDriver.DATA + 4096L * r.nextInt(16)); // PRP2
        }
        if (r.nextBoolean()) { // a queue id, a size, a CQ id and PC
          int qid = r.nextInt(4);
          b.putInt(at + 40, r.nextInt(40) << 16 | qid);
          b.putInt(at + 44, r.nextInt(4) << 16 | r.nextInt(4));
          b.putLong(at + 24, r.nextBoolean() ? HostDriver.sqBase(qid) : HostDriver.cqBase(qid));
        }
        if (r.nextBoolean()) {
          b.putInt(at + 48, r.nextInt(300)); // NLB
          b.putInt(at + 44, 0);
          b.putInt(at + 40, r.nextInt(200)); // SLBA
        }
      }
    }
  }
}
