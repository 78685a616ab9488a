package dev.toykvm.kernel.x86;

import static dev.toykvm.kvm.KvmConstants.EFER_LMA;
import static dev.toykvm.kvm.KvmConstants.X86_CR0_PE;

import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.KvmSregs;

/**
 * Delivers an exception or software interrupt through the guest's IVT (real mode) or IDT (protected
 * and long mode), as the CPU would: Unicorn reports exceptions but never delivers them.
 *
 * <p>What is modelled: real-mode IVT entries; 32-bit interrupt and trap gates; 64-bit gates with
 * IST; privilege changes through the TSS's stack pointers; the error code slot of the vectors that
 * have one, with the code QEMU raised the exception with (CR2 is what QEMU left there); RF set in
 * the RFLAGS a fault pushes. A fault while delivering becomes a double fault, and a fault while
 * delivering the double fault is a triple fault ({@link Outcome#TRIPLE_FAULT}, which KVM reports as
 * {@code KVM_EXIT_SHUTDOWN}). Real CPUs deliver some second exceptions serially rather than as a
 * double fault; toykvm always escalates. Task gates, 16-bit gates and virtual-8086 mode are not
 * modelled: they give {@link Outcome#UNSUPPORTED} with the reason in {@link #lastProblem()}.
 */
public final class ExceptionDelivery {

  /** What happened. */
  public enum Outcome {
    DELIVERED,
    TRIPLE_FAULT,
    UNSUPPORTED
  }

  public static final int DE = 0;
  public static final int UD = 6;
  public static final int DF = 8;
  public static final int GP = 13;
  public static final int PF = 14;

  private static final long RFLAGS_TF = 1L << 8;
  private static final long RFLAGS_IF = 1L << 9;
  private static final long RFLAGS_NT = 1L << 14;
  private static final long RFLAGS_RF = 1L << 16;
  private static final long RFLAGS_VM = 1L << 17;
  private static final long RFLAGS_AC = 1L << 18;

  private final GuestCpu cpu;
  private String lastProblem;

  public ExceptionDelivery(GuestCpu cpu) {
    this.cpu = cpu;
  }

  /** Why the last delivery was not done (set with UNSUPPORTED and TRIPLE_FAULT). */
  public String lastProblem() {
    return lastProblem;
  }

  /**
   * Delivers {@code vector}. For a software interrupt ({@code int n}, {@code int3}) RIP must
   * already point after the instruction; for a fault, at the faulting instruction.
   */
  public Outcome deliver(int vector, boolean software) {
    return deliver(vector, software, 0);
  }

  /**
   * Delivers exception {@code vector} with {@code errorCode}, pushed if the vector has one (#DF,
   * #TS, #NP, #SS, #GP, #PF, #AC, ...; the code QEMU raised it with, see {@code
   * CpuState.errorCode()}). A fault's pushed RFLAGS has RF set (see {@link #isFault}).
   */
  public Outcome deliver(int vector, boolean software, int errorCode) {
    external = false;
    this.errorCode = errorCode;
    return deliverChain(vector, software);
  }

  // The first delivery's error code; a #DF it causes pushes 0.
  private int errorCode;

  /**
   * Delivers an external interrupt (from the PIC or the local APIC): RIP must point at the next
   * instruction to run, no error code is pushed whatever the vector, and the gate's DPL is not
   * checked (SDM 6.12.1.1: only for {@code int n}, {@code int3}, {@code into}).
   */
  public Outcome deliverExternal(int vector) {
    external = true;
    try {
      return deliverChain(vector, false);
    } finally {
      external = false;
    }
  }

  // Set while the first delivery of deliverExternal runs (a #DF it causes has its error code).
  private boolean external;

  private Outcome deliverChain(int vector, boolean software) {
    lastProblem = null;
    int v = vector;
    boolean sw = software;
    StringBuilder chain = new StringBuilder();
    while (true) {
      try {
        deliverOnce(v, sw);
        return Outcome.DELIVERED;
      } catch (Fault f) {
        chain.append(chain.isEmpty() ? "" : "; ").append("vector ").append(v).append(": ");
        chain.append(f.getMessage());
        if (v == DF) {
          lastProblem = "triple fault (" + chain + ")";
          return Outcome.TRIPLE_FAULT;
        }
        v = DF;
        sw = false;
        external = false;
        errorCode = 0;
      } catch (Unsupported u) {
        lastProblem = "cannot deliver vector " + v + ": " + u.getMessage();
        return Outcome.UNSUPPORTED;
      }
    }
  }

  static boolean hasErrorCode(int vector) {
    return switch (vector) {
      case 8, 10, 11, 12, 13, 14, 17, 21, 29, 30 -> true;
      default -> false;
    };
  }

  /**
   * Whether {@code vector} is a fault, whose pushed RFLAGS has RF set so that the restarted
   * instruction does not hit an instruction breakpoint again (SDM vol. 3, 17.3.1.1). #DB is left
   * out: an instruction breakpoint pushes RF as it was (the handler sets it), and a data breakpoint
   * or single step is a trap; #DF and #MC are aborts.
   */
  static boolean isFault(int vector) {
    return switch (vector) {
      case 0, 5, 6, 7, 10, 11, 12, 13, 14, 16, 17, 19, 20, 21 -> true;
      default -> false;
    };
  }

  /** RFLAGS as pushed: with RF for a fault (not for int n, int3, into or an external interrupt). */
  private long pushedFlags(long rflags, int vector, boolean software) {
    return !software && !external && isFault(vector) ? rflags | RFLAGS_RF : rflags;
  }

  private void deliverOnce(int vector, boolean software) {
    KvmRegs r = cpu.regs();
    KvmSregs s = cpu.sregs();
    if ((r.rflags() & RFLAGS_VM) != 0) {
      throw new Unsupported("virtual-8086 mode");
    }
    if ((s.cr0() & X86_CR0_PE) == 0) {
      realMode(vector, r, s);
    } else if ((s.efer() & EFER_LMA) != 0) {
      longMode(vector, software, r, s);
    } else {
      protectedMode(vector, software, r, s);
    }
  }

  private void realMode(int vector, KvmRegs r, KvmSregs s) {
    if (vector * 4L + 3 > s.idt().limit()) {
      throw new Fault("IVT entry beyond the IDT limit 0x" + Integer.toHexString(s.idt().limit()));
    }
    long entry = readLinear(s, s.idt().base() + vector * 4L, 4);
    Stack stack = new Stack(s, s.ss(), r.rsp(), 2, 0xffff);
    stack.push(r.rflags());
    stack.push(s.cs().selector());
    stack.push(r.rip());
    stack.commit();
    int selector = (int) (entry >>> 16) & 0xffff;
    cpu.setSregs(s.withCs(s.cs().withSelector(selector).withBase((long) selector << 4)));
    cpu.setRegs(
        r.withRip(entry & 0xffff)
            .withRsp((r.rsp() & ~0xffffL) | stack.sp)
            .withRflags(r.rflags() & ~(RFLAGS_IF | RFLAGS_TF | RFLAGS_AC)));
  }

  private void protectedMode(int vector, boolean software, KvmRegs r, KvmSregs s) {
    if (vector * 8L + 7 > s.idt().limit()) {
      throw new Fault("IDT entry beyond the IDT limit 0x" + Integer.toHexString(s.idt().limit()));
    }
    long gate = readLinear(s, s.idt().base() + vector * 8L, 8);
    int type = (int) (gate >>> 40) & 0xf;
    checkGate(gate, type, software, s);
    if (type == 0x5) {
      throw new Unsupported("task gates are not modelled");
    }
    if (type == 0x6 || type == 0x7) {
      throw new Unsupported("16-bit interrupt gates are not modelled");
    }
    if (type != 0xe && type != 0xf) {
      throw new Fault("IDT entry has type 0x" + Integer.toHexString(type) + ", not a gate");
    }
    long offset = (gate & 0xffff) | ((gate >>> 48) & 0xffff) << 16;
    int selector = (int) (gate >>> 16) & 0xffff;
    KvmSegment cs = codeSegment(s, selector, false);
    int cpl = s.ss().dpl();
    KvmSegment ss = s.ss();
    long sp = r.rsp();
    boolean change = cs.dpl() < cpl;
    Stack stack;
    if (change) {
      long tss = s.tr().base();
      sp = readLinear(s, tss + 4 + cs.dpl() * 8L, 4);
      int ssSel = (int) readLinear(s, tss + 8 + cs.dpl() * 8L, 2);
      ss = dataSegment(s, ssSel, cs.dpl());
      stack = new Stack(s, ss, sp, 4, ss.db() ? 0xffff_ffffL : 0xffff);
      stack.push(s.ss().selector());
      stack.push(r.rsp());
    } else {
      stack = new Stack(s, ss, sp, 4, ss.db() ? 0xffff_ffffL : 0xffff);
    }
    stack.push(pushedFlags(r.rflags(), vector, software));
    stack.push(s.cs().selector());
    stack.push(r.rip());
    if (!software && !external && hasErrorCode(vector)) {
      stack.push(errorCode & 0xffff_ffffL);
    }
    stack.commit();
    long mask = ss.db() ? 0xffff_ffffL : 0xffff;
    KvmSregs next = s.withCs(cs);
    next = withSs(next, ss);
    cpu.setSregs(next);
    long flags = r.rflags() & ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM);
    if (type == 0xe) {
      flags &= ~RFLAGS_IF;
    }
    cpu.setRegs(r.withRip(offset).withRsp((sp & ~mask) | (stack.sp & mask)).withRflags(flags));
  }

  private void longMode(int vector, boolean software, KvmRegs r, KvmSregs s) {
    if (vector * 16L + 15 > s.idt().limit()) {
      throw new Fault("IDT entry beyond the IDT limit 0x" + Integer.toHexString(s.idt().limit()));
    }
    long lo = readLinear(s, s.idt().base() + vector * 16L, 8);
    long hi = readLinear(s, s.idt().base() + vector * 16L + 8, 8);
    int type = (int) (lo >>> 40) & 0xf;
    checkGate(lo, type, software, s);
    if (type != 0xe && type != 0xf) {
      throw new Fault("IDT entry has type 0x" + Integer.toHexString(type) + ", not a 64-bit gate");
    }
    long offset = (lo & 0xffff) | ((lo >>> 48) & 0xffff) << 16 | (hi & 0xffff_ffffL) << 32;
    int selector = (int) (lo >>> 16) & 0xffff;
    int ist = (int) (lo >>> 32) & 7;
    KvmSegment cs = codeSegment(s, selector, true);
    int cpl = s.cs().dpl();
    long tss = s.tr().base();
    long sp = r.rsp();
    if (ist != 0) {
      sp = readLinear(s, tss + 0x24 + (ist - 1) * 8L, 8);
    } else if (cs.dpl() < cpl) {
      sp = readLinear(s, tss + 4 + cs.dpl() * 8L, 8);
    }
    sp &= ~0xfL;
    Stack stack = new Stack(s, s.ss(), sp, 8, -1L);
    stack.push(s.ss().selector());
    stack.push(r.rsp());
    stack.push(pushedFlags(r.rflags(), vector, software));
    stack.push(s.cs().selector());
    stack.push(r.rip());
    if (!software && !external && hasErrorCode(vector)) {
      stack.push(errorCode & 0xffff_ffffL);
    }
    stack.commit();
    KvmSregs next = s.withCs(cs);
    if (cs.dpl() != cpl) {
      KvmSegment nullSs =
          new KvmSegment(
              0, 0, cs.dpl(), 0, false, cs.dpl(), false, false, false, false, false, true);
      next = withSs(next, nullSs);
    }
    cpu.setSregs(next);
    long flags = r.rflags() & ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM);
    if (type == 0xe) {
      flags &= ~RFLAGS_IF;
    }
    cpu.setRegs(r.withRip(offset).withRsp(stack.sp).withRflags(flags));
  }

  private static void checkGate(long gate, int type, boolean software, KvmSregs s) {
    if ((gate & (1L << 47)) == 0) {
      throw new Fault("IDT entry not present");
    }
    int dpl = (int) (gate >>> 45) & 3;
    if (software && dpl < s.cs().dpl()) {
      throw new Fault("software interrupt through a gate of DPL " + dpl);
    }
  }

  private KvmSegment codeSegment(KvmSregs s, int selector, boolean longMode) {
    KvmSegment seg = descriptor(s, selector);
    if (!seg.present() || !seg.s() || (seg.type() & 0x8) == 0) {
      throw new Fault(
          "gate selector 0x" + Integer.toHexString(selector) + " is not a present code segment");
    }
    if (longMode && !seg.l()) {
      throw new Fault(
          "gate selector 0x" + Integer.toHexString(selector) + " is not a 64-bit code segment");
    }
    return seg.withSelector((selector & ~3) | seg.dpl());
  }

  private KvmSegment dataSegment(KvmSregs s, int selector, int cpl) {
    KvmSegment seg = descriptor(s, selector);
    if (!seg.present() || !seg.s() || (seg.type() & 0xa) != 0x2 || seg.dpl() != cpl) {
      throw new Fault("TSS stack selector 0x" + Integer.toHexString(selector) + " is unusable");
    }
    return seg.withSelector((selector & ~3) | cpl);
  }

  /** Reads the descriptor for {@code selector} from the GDT or LDT. */
  private KvmSegment descriptor(KvmSregs s, int selector) {
    boolean ldt = (selector & 4) != 0;
    long base = ldt ? s.ldt().base() : s.gdt().base();
    long limit = ldt ? s.ldt().limit() : s.gdt().limit();
    int index = selector & ~7;
    if (index == 0 && !ldt) {
      throw new Fault("null selector");
    }
    if (index + 7 > limit) {
      throw new Fault("selector 0x" + Integer.toHexString(selector) + " beyond the table limit");
    }
    long d = readLinear(s, base + index, 8);
    long segLimit = (d & 0xffff) | ((d >>> 48) & 0xf) << 16;
    long segBase = ((d >>> 16) & 0xff_ffff) | ((d >>> 56) & 0xff) << 24;
    int flags = (int) (d >>> 32) & 0x00f0_ff00;
    if ((flags & SegmentFlags.G) != 0) {
      segLimit = (segLimit << 12) | 0xfff;
    }
    return SegmentFlags.decode(selector, segBase, segLimit, flags);
  }

  private static KvmSregs withSs(KvmSregs s, KvmSegment ss) {
    return new KvmSregs(
        s.cs(),
        s.ds(),
        s.es(),
        s.fs(),
        s.gs(),
        ss,
        s.tr(),
        s.ldt(),
        s.gdt(),
        s.idt(),
        s.cr0(),
        s.cr2(),
        s.cr3(),
        s.cr4(),
        s.cr8(),
        s.efer(),
        s.apicBase());
  }

  private long readLinear(KvmSregs s, long linear, int size) {
    byte[] out = new byte[size];
    for (int i = 0; i < size; i++) {
      long phys = PageWalker.translate(cpu, s, linear + i);
      byte[] b = phys < 0 ? null : cpu.readPhysical(phys, 1);
      if (b == null) {
        throw new Fault(String.format("cannot read linear address 0x%x", linear + i));
      }
      out[i] = b[0];
    }
    return Bytes.le(out, 0, size);
  }

  /** Pushes are collected, then written together, so a fault leaves memory untouched. */
  private final class Stack {
    private final KvmSregs s;
    private final KvmSegment ss;
    private final int width;
    private final long mask;
    private final java.util.List<long[]> writes = new java.util.ArrayList<>();
    long sp;

    Stack(KvmSregs s, KvmSegment ss, long sp, int width, long mask) {
      this.s = s;
      this.ss = ss;
      this.sp = sp;
      this.width = width;
      this.mask = mask;
    }

    void push(long value) {
      sp = (sp - width) & mask;
      long linear = (s.efer() & EFER_LMA) != 0 ? sp : (ss.base() + sp) & 0xffff_ffffL;
      writes.add(new long[] {linear, value});
    }

    void commit() {
      java.util.List<long[]> physical = new java.util.ArrayList<>();
      for (long[] w : writes) {
        for (int i = 0; i < width; i++) {
          long phys = PageWalker.translate(cpu, s, w[0] + i);
          if (phys < 0 || cpu.readPhysical(phys, 1) == null) {
            throw new Fault(String.format("stack at linear 0x%x is not mapped", w[0] + i));
          }
          physical.add(new long[] {phys, (w[1] >>> (8 * i)) & 0xff});
        }
      }
      for (long[] p : physical) {
        if (!cpu.writePhysical(p[0], new byte[] {(byte) p[1]})) {
          throw new Fault(String.format("stack at physical 0x%x is not writable", p[0]));
        }
      }
    }
  }

  /** A fault during delivery (escalates to #DF, then to a triple fault). */
  private static final class Fault extends RuntimeException {
    Fault(String why) {
      super(why, null, false, false);
    }
  }

  private static final class Unsupported extends RuntimeException {
    Unsupported(String why) {
      super(why, null, false, false);
    }
  }
}
