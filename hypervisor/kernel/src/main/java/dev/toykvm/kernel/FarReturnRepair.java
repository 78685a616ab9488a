package dev.toykvm.kernel;

import static dev.toykvm.kvm.KvmConstants.X86_CR0_PE;

import dev.toykvm.kernel.unicorn.UcCallbacks;
import dev.toykvm.kernel.x86.GuestCode;
import dev.toykvm.kernel.x86.GuestCpu;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmSregs;

/**
 * Decides whether a translation block that just ran ended with a real-mode or vm86 {@code retf}
 * that libunicorn left with EIP at its own linear address, and which EIP it popped (see {@code
 * FarReturnWatch} and ARCHITECTURE.md, "The real-mode retf"). Called at the start of the next block
 * (or when that block could not be fetched), with the CPU state right after the retf.
 *
 * <p>Exact: the block is decoded from its start ({@link InsnLength}), so its last instruction is
 * known, and it must be a {@code retf} starting at EIP; the offset and selector it popped are read
 * back from the stack below SP (computed as Unicorn updated SP, including its sign-extended imm16),
 * and the selector must be CS. Only then is the popped offset the answer.
 */
final class FarReturnRepair {
  private static final long RFLAGS_VM = 1L << 17;
  private static final int MAX_BLOCK = 64 * 1024;

  private final GuestCpu cpu;

  FarReturnRepair(GuestCpu cpu) {
    this.cpu = cpu;
  }

  /** See {@link UcCallbacks#farReturn}. */
  long check(long prevAddress, int prevSize) {
    if (prevSize <= 0 || prevSize > MAX_BLOCK) {
      return UcCallbacks.NO_REPAIR;
    }
    KvmSregs s = cpu.sregs();
    KvmRegs r = cpu.regs();
    boolean realMode = (s.cr0() & X86_CR0_PE) == 0;
    if (!realMode && (r.rflags() & RFLAGS_VM) == 0) {
      return UcCallbacks.NO_REPAIR;
    }
    long eip = r.rip();
    if (eip < prevAddress || eip >= prevAddress + prevSize) {
      return UcCallbacks.NOT_A_FAR_RETURN;
    }
    // The bytes as Unicorn translated them: in real mode linear is physical; vm86 may page (and
    // then the verdict is not remembered, since the mapping may change).
    byte[] code = GuestCode.read(cpu, s, prevAddress, prevSize);
    if (code == null) {
      return UcCallbacks.NO_REPAIR;
    }
    int bits = s.cs().db() ? 32 : 16;
    int last = lastInstruction(code, bits);
    int retf = last >= 0 ? last : (int) (eip - prevAddress); // undecodable: trust EIP's own bytes
    InsnLength.Insn insn = InsnLength.decode(code, retf, bits);
    boolean isRetf =
        (insn.opcode() == 0xcb || insn.opcode() == 0xca)
            && retf + insn.length() == code.length
            && prevAddress + retf == eip;
    if (!isRetf) {
      return last >= 0 && realMode ? UcCallbacks.NOT_A_FAR_RETURN : UcCallbacks.NO_REPAIR;
    }
    return popped(s, r, code, retf, insn, bits);
  }

  /** Where the block's last instruction starts, or -1 if the block does not decode to its end. */
  static int lastInstruction(byte[] code, int bits) {
    int at = 0;
    int last = -1;
    while (at < code.length) {
      InsnLength.Insn i = InsnLength.decode(code, at, bits);
      if (i.length() <= 0) {
        return -1;
      }
      last = at;
      at += i.length();
    }
    return at == code.length ? last : -1;
  }

  /** The offset the retf popped, read back from below SP, if the selector there is CS. */
  private long popped(KvmSregs s, KvmRegs r, byte[] code, int at, InsnLength.Insn insn, int bits) {
    int size = (bits == 32) != insn.operandSize() ? 4 : 2;
    long imm = 0;
    if (insn.opcode() == 0xca) {
      int end = at + insn.length();
      imm = (short) ((code[end - 2] & 0xff) | (code[end - 1] & 0xff) << 8); // QEMU: ldsw
    }
    long mask = s.ss().db() ? 0xffff_ffffL : 0xffff;
    long sp = (r.rsp() - imm - 2L * size) & mask;
    long offsetAt = (s.ss().base() + sp) & 0xffff_ffffL;
    byte[] offset = GuestCode.read(cpu, s, offsetAt, size);
    byte[] selector = GuestCode.read(cpu, s, (offsetAt + size) & 0xffff_ffffL, 2);
    if (offset == null || selector == null) {
      return UcCallbacks.NO_REPAIR;
    }
    int cs = (selector[0] & 0xff) | (selector[1] & 0xff) << 8;
    if (cs != s.cs().selector()) {
      return UcCallbacks.NO_REPAIR;
    }
    long eip = 0;
    for (int i = size - 1; i >= 0; i--) {
      eip = eip << 8 | (offset[i] & 0xff);
    }
    return eip;
  }
}
