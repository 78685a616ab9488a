package dev.toykvm.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.kernel.unicorn.UcCallbacks;
import dev.toykvm.kernel.x86.GuestCpu;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.KvmSregs;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** {@link FarReturnRepair}'s decision, on a CPU state and memory made up for each case. */
class FarReturnRepairTest {

  /** 1 MiB of memory and a CPU right after a block, as the block hook sees them. */
  private static final class Cpu implements GuestCpu {
    final byte[] memory = new byte[1 << 20];
    KvmRegs regs = ResetState.regs().withRsp(0x8000).withRflags(2);
    KvmSregs sregs =
        ResetState.sregs()
            .withCs(KvmSegment.realMode(0x2000, true))
            .withDataSegments(KvmSegment.realMode(0, false));

    void load(long at, int... bytes) {
      for (int i = 0; i < bytes.length; i++) {
        memory[(int) at + i] = (byte) bytes[i];
      }
    }

    @Override
    public KvmRegs regs() {
      return regs;
    }

    @Override
    public void setRegs(KvmRegs regs) {
      this.regs = regs;
    }

    @Override
    public KvmSregs sregs() {
      return sregs;
    }

    @Override
    public void setSregs(KvmSregs sregs) {
      this.sregs = sregs;
    }

    @Override
    public byte[] readPhysical(long address, int length) {
      return address + length > memory.length
          ? null
          : Arrays.copyOfRange(memory, (int) address, (int) address + length);
    }

    @Override
    public boolean writePhysical(long address, byte[] bytes) {
      return false;
    }
  }

  /** push 0x2000; push 0x0010; retf at 0x10000 (the block), run: SP back at 0x8000. */
  private static Cpu afterRetf() {
    Cpu c = new Cpu();
    c.load(0x10000, 0x68, 0x00, 0x20, 0x68, 0x10, 0x00, 0xcb);
    c.load(0x7ffc, 0x10, 0x00, 0x00, 0x20); // what it popped: 0010, 2000
    c.regs = c.regs.withRip(0x10006); // libunicorn's EIP: the retf's linear address
    return c;
  }

  @Test
  void retfAtEipGivesTheOffsetItPopped() {
    assertEquals(0x10, new FarReturnRepair(afterRetf()).check(0x10000, 7));
  }

  @Test
  void aSelectorThatIsNotCsMeansTheStackChanged() {
    Cpu c = afterRetf();
    c.load(0x7ffe, 0x00, 0x30);
    assertEquals(UcCallbacks.NO_REPAIR, new FarReturnRepair(c).check(0x10000, 7));
  }

  @Test
  void eipOutsideTheBlockIsNoFarReturn() {
    Cpu c = afterRetf();
    c.regs = c.regs.withRip(0x10);
    assertEquals(UcCallbacks.NOT_A_FAR_RETURN, new FarReturnRepair(c).check(0x10000, 7));
  }

  @Test
  void aFarJumpEndingInCbIsNotARetf() {
    // jmp far 0xcb00:0x1004: its last byte is 0xcb, and EIP (0x1004) is that byte's address.
    Cpu c = new Cpu();
    c.load(0x1000, 0xea, 0x04, 0x10, 0x00, 0xcb);
    c.sregs = c.sregs.withCs(KvmSegment.realMode(0xcb00, true));
    c.load(0x7ffc, 0x04, 0x10, 0x00, 0xcb); // even a stack that would agree
    c.regs = c.regs.withRip(0x1004);
    assertEquals(UcCallbacks.NOT_A_FAR_RETURN, new FarReturnRepair(c).check(0x1000, 5));
  }

  @Test
  void o32RetfImm16PopsDwordsAboveItsParameters() {
    Cpu c = new Cpu();
    c.load(0x10000, 0x90, 0x66, 0xca, 0x04, 0x00); // nop; o32 retf 4
    c.load(0x7ff4, 0x78, 0x56, 0x34, 0x12, 0x00, 0x20, 0x00, 0x00); // 12345678, 00002000
    c.regs = c.regs.withRip(0x10001);
    assertEquals(0x1234_5678L, new FarReturnRepair(c).check(0x10000, 5));
  }

  @Test
  void retfImm16IsSignExtendedAsUnicornDoes() {
    // retf 0xfffe: Unicorn adds -2 + 4 to SP, so the frame was 2 bytes below SP.
    Cpu c = new Cpu();
    c.load(0x10000, 0xca, 0xfe, 0xff);
    c.load(0x7ffe, 0x34, 0x12, 0x00, 0x20);
    c.regs = c.regs.withRip(0x10000);
    assertEquals(0x1234, new FarReturnRepair(c).check(0x10000, 3));
  }

  @Test
  void protectedModeIsNeverRepaired() {
    Cpu c = afterRetf();
    c.sregs = c.sregs.withControl(KvmConstants.X86_CR0_PE, 0, 0, 0);
    assertEquals(UcCallbacks.NO_REPAIR, new FarReturnRepair(c).check(0x10000, 7));
  }

  @Test
  void lastInstructionWalksTheBlock() {
    byte[] block = {0x68, 0x00, 0x20, (byte) 0x9a, 0x00, 0x00, 0x00, 0x30, (byte) 0xcb};
    assertEquals(8, FarReturnRepair.lastInstruction(block, 16));
    assertEquals(-1, FarReturnRepair.lastInstruction(Arrays.copyOf(block, 5), 16));
  }
}
