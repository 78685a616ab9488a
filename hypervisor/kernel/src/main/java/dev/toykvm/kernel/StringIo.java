package dev.toykvm.kernel;

import static dev.toykvm.kvm.KvmConstants.EFER_LMA;

import dev.toykvm.kernel.unicorn.Uc;
import dev.toykvm.kernel.x86.Linear;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.KvmSregs;
import dev.toykvm.kvm.VcpuExit;
import java.util.Arrays;

/**
 * {@code rep ins}/{@code rep outs} as KVM reports them: one {@code KVM_EXIT_IO} for up to a page of
 * elements, not one per element.
 *
 * <p>Unicorn 2.0.1 (measured) calls the in/out hook once per element, and for the first element RIP
 * is still the start of the translation block, not the instruction. But a {@code rep} string
 * instruction always ends its block, so the block is decoded from its start ({@link InsnLength})
 * and its last instruction, if the decoding ends exactly at the block's end, is the one running. In
 * the hook of an element, this class reads the rest of the batch from DS:RSI (outs, segment
 * override honoured) or, after the exit, stores it at ES:RDI (ins), through the guest's segments
 * and paging, honouring DF; then it sets RSI/RDI and RCX so that Unicorn's own update after the
 * hook (one element further, RCX less one) lands on the values after the whole batch. Unicorn then
 * goes on at the instruction if RCX is not yet zero (the next batch) or after it.
 *
 * <p>Not batched (element by element as before, each its own exit): ports an ioeventfd or an
 * ioregion claims (the kernel side serves them element by element, as KVM's in-kernel devices see
 * string I/O), a block that does not decode, and elements whose memory is not RAM (the batch ends
 * before them). Segment limits are not checked.
 */
final class StringIo {
  /** KVM's data area: at most a page of elements per exit. */
  static final int MAX_BYTES = 4096;

  private static final long DF = 1L << 10;
  private static final int DS = 0x3e;
  private static final int FS = 0x64;
  private static final int GS = 0x65;

  /** The engine's state and memory, as the batch needs them. */
  interface Guest {
    KvmSregs sregs();

    long reg(int ucReg);

    void setReg(int ucReg, long value);

    /** Guest-physical address of a linear one, or -1. */
    long toPhysical(KvmSregs s, long linear);

    /** Guest-physical bytes (RAM or ROM), or null. */
    byte[] read(long physical, int length);

    /** Whether {@code [physical, +length)} is writable RAM. */
    boolean writable(long physical, int length);

    void write(long physical, byte[] bytes);
  }

  private final Guest guest;
  private final AccessRouter router;
  private final VcpuLink vcpu;
  // The last block found to end in no rep ins/outs.
  private long plainBlock = -1;
  private int plainBlockSize;

  StringIo(Guest guest, AccessRouter router, VcpuLink vcpu) {
    this.guest = guest;
    this.router = router;
    this.vcpu = vcpu;
  }

  /**
   * Builds the {@link Guest} of a vCPU from its parts; {@code engine} gives the vCPU's engine of
   * the moment (it is replaced after libunicorn aborts, see {@link Untranslatable}).
   */
  static Guest guest(
      dev.toykvm.kernel.x86.GuestCpu cpu,
      java.util.function.Supplier<dev.toykvm.kernel.unicorn.UcEngine> engine,
      MemorySlots slots) {
    return new Guest() {
      @Override
      public KvmSregs sregs() {
        return cpu.sregs();
      }

      @Override
      public long reg(int ucReg) {
        return engine.get().readReg(ucReg);
      }

      @Override
      public void setReg(int ucReg, long value) {
        engine.get().writeReg(ucReg, value);
      }

      @Override
      public long toPhysical(KvmSregs s, long linear) {
        return Linear.toPhysical(cpu, s, linear);
      }

      @Override
      public byte[] read(long physical, int length) {
        return cpu.readPhysical(physical, length);
      }

      @Override
      public boolean writable(long physical, int length) {
        MemorySlot slot = slots.find(physical);
        return slot != null && !slot.readOnly() && physical + length <= slot.end();
      }

      @Override
      public void write(long physical, byte[] bytes) {
        cpu.writePhysical(physical, bytes);
      }
    };
  }

  /** What a batch is about: the instruction and the registers it uses. */
  private record Batch(
      KvmSregs sregs, long mask, long delta, long count, long segmentBase, long index) {}

  /**
   * The hook of an {@code out} element that the kernel side does not serve itself (the caller
   * checked). Returns true if this element began a batch that is now done (the exit taken, the
   * registers set); false if the element is an ordinary access.
   */
  boolean out(int port, int size, long value, long blockStart, int blockSize) {
    Batch b = batch(false, size, blockStart, blockSize);
    if (b == null) {
      return false;
    }
    int n = (int) Math.min(b.count(), MAX_BYTES / size);
    byte[] data = new byte[n * size];
    put(data, 0, size, value);
    int done = 1;
    for (; done < n; done++) {
      byte[] e = readLinear(b, b.index() + done * b.delta(), size);
      if (e == null) {
        break;
      }
      System.arraycopy(e, 0, data, done * size, size);
    }
    router.posted().flush();
    // As KVM completes an out before the exit, the VMM sees RSI and RCX after the batch ...
    setRegisters(Uc.X86_REG_RSI, b, done, 0);
    vcpu.exitToVmm(new VcpuExit.IoOutString(port, size, done, Arrays.copyOf(data, done * size)));
    // ... and Unicorn, which moves them by one element when the hook returns, one short of it.
    setRegisters(Uc.X86_REG_RSI, b, done, 1);
    return true;
  }

  /**
   * The hook of an {@code in} element that the kernel side does not serve itself (the caller
   * checked). Returns the value of the element Unicorn stores itself (the first of a batch, which
   * is then done), or null if the element is an ordinary access.
   */
  Long in(int port, int size, long blockStart, int blockSize) {
    Batch b = batch(true, size, blockStart, blockSize);
    if (b == null) {
      return null;
    }
    int n = (int) Math.min(b.count(), MAX_BYTES / size);
    int done = 1;
    while (done < n && writableLinear(b, b.index() + done * b.delta(), size)) {
      done++;
    }
    router.posted().flush();
    byte[] data = new byte[done * size];
    Arrays.fill(data, (byte) 0xff);
    vcpu.exitToVmm(new VcpuExit.IoInString(port, size, done, data));
    for (int k = 1; k < done; k++) {
      writeLinear(
          b, b.index() + k * b.delta(), Arrays.copyOfRange(data, k * size, k * size + size));
    }
    setRegisters(Uc.X86_REG_RDI, b, done, 1);
    long first = 0;
    for (int i = size - 1; i >= 0; i--) {
      first = first << 8 | (data[i] & 0xff);
    }
    return first;
  }

  /** The batch the running block's last instruction makes, or null if it is no rep ins/outs. */
  private Batch batch(boolean in, int size, long blockStart, int blockSize) {
    if (blockStart == plainBlock && blockSize == plainBlockSize) {
      return null;
    }
    KvmSregs s = guest.sregs();
    int bits = bits(s);
    byte[] code = readBlock(s, blockStart, blockSize);
    InsnLength.Insn last = code == null ? null : lastInstruction(code, bits);
    int op = last == null || !last.rep() ? -1 : last.opcode();
    boolean isIns = op == 0x6c || op == 0x6d;
    boolean isOuts = op == 0x6e || op == 0x6f;
    if (in ? !isIns : !isOuts) {
      // Remembered, so that a loop of plain in/out pays for the decoding once. Should the code
      // there change into a rep ins/outs, its elements would exit one by one: still correct.
      plainBlock = blockStart;
      plainBlockSize = blockSize;
      return null;
    }
    int addressBits =
        bits == 64 ? (last.addressSize() ? 32 : 64) : (bits == 32) != last.addressSize() ? 32 : 16;
    long mask = addressBits == 64 ? -1L : (1L << addressBits) - 1;
    long count = guest.reg(Uc.X86_REG_RCX) & mask;
    if (count == 0) {
      return null;
    }
    long delta = (guest.reg(Uc.X86_REG_EFLAGS) & DF) != 0 ? -size : size;
    KvmSegment seg = in ? s.es() : segment(s, last.segment());
    int segPrefix = in ? 0x26 : last.segment() < 0 ? DS : last.segment();
    long base = bits == 64 && segPrefix != FS && segPrefix != GS ? 0 : seg.base();
    long index = guest.reg(in ? Uc.X86_REG_RDI : Uc.X86_REG_RSI);
    return new Batch(s, mask, delta, count, base, index);
  }

  /** The last instruction of {@code code}, if the instructions from its start end exactly there. */
  static InsnLength.Insn lastInstruction(byte[] code, int bits) {
    int i = 0;
    InsnLength.Insn last = null;
    while (i < code.length) {
      last = InsnLength.decode(code, i, bits);
      if (last.length() <= 0) {
        return null;
      }
      i += last.length();
    }
    return i == code.length ? last : null;
  }

  private static int bits(KvmSregs s) {
    if ((s.efer() & EFER_LMA) != 0 && s.cs().l()) {
      return 64;
    }
    return s.cs().db() ? 32 : 16;
  }

  private static KvmSegment segment(KvmSregs s, int prefix) {
    return switch (prefix) {
      case 0x26 -> s.es();
      case 0x2e -> s.cs();
      case 0x36 -> s.ss();
      case 0x64 -> s.fs();
      case 0x65 -> s.gs();
      default -> s.ds();
    };
  }

  /**
   * Sets the index register and RCX to their values after a batch of {@code n}, less {@code behind}
   * elements (1: Unicorn's own update when the hook returns makes up the difference).
   */
  private void setRegisters(int indexReg, Batch b, int n, int behind) {
    setMasked(indexReg, b.index() + (n - behind) * b.delta(), b.mask());
    setMasked(Uc.X86_REG_RCX, b.count() - (n - behind), b.mask());
  }

  private void setMasked(int reg, long value, long mask) {
    long v = mask == 0xffff ? (guest.reg(reg) & ~mask) | (value & mask) : value & mask;
    guest.setReg(reg, v);
  }

  private byte[] readBlock(KvmSregs s, long linear, int length) {
    byte[] code = new byte[length];
    for (int done = 0; done < length; ) {
      int chunk = (int) Math.min(length - done, 4096 - ((linear + done) & 0xfff));
      long phys = guest.toPhysical(s, linear + done);
      byte[] part = phys < 0 ? null : guest.read(phys, chunk);
      if (part == null) {
        return null;
      }
      System.arraycopy(part, 0, code, done, chunk);
      done += chunk;
    }
    return code;
  }

  private byte[] readLinear(Batch b, long index, int size) {
    long linear = b.segmentBase() + (index & b.mask());
    if ((linear & 0xfff) + size > 4096) {
      return null; // an element across a page boundary: left to Unicorn
    }
    long phys = guest.toPhysical(b.sregs(), linear);
    return phys < 0 ? null : guest.read(phys, size);
  }

  private boolean writableLinear(Batch b, long index, int size) {
    long linear = b.segmentBase() + (index & b.mask());
    if ((linear & 0xfff) + size > 4096) {
      return false;
    }
    long phys = guest.toPhysical(b.sregs(), linear);
    return phys >= 0 && guest.writable(phys, size);
  }

  private void writeLinear(Batch b, long index, byte[] bytes) {
    long linear = b.segmentBase() + (index & b.mask());
    guest.write(guest.toPhysical(b.sregs(), linear), bytes);
  }

  private static void put(byte[] data, int at, int size, long value) {
    for (int i = 0; i < size; i++) {
      data[at * size + i] = (byte) (value >>> (8 * i));
    }
  }
}
