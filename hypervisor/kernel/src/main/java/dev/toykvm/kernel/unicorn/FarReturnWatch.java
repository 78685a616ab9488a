package dev.toykvm.kernel.unicorn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;

/**
 * libunicorn 2.0.1's real-mode far return bug, and where the engine looks for it.
 *
 * <p>With a {@code UC_HOOK_MEM_READ} hook installed, Unicorn's translator stores the linear address
 * of the current instruction into EIP before every guest load ({@code gen_op_ld_v}: "sync EIP").
 * {@code retf} and {@code retf imm16} (0xCB, 0xCA iw, with or without 0x66) in real mode and vm86
 * are translated inline: pop the offset, set EIP, pop the selector (a second load, whose sync
 * overwrites EIP with the retf's linear address), load CS. So the guest goes on at CS:(linear
 * address of the retf). The kernel side always has a read hook (whole MMIO accesses, read-only
 * slots). Protected-mode {@code retf} and every other control transfer are not affected (see
 * ARCHITECTURE.md, "The real-mode retf").
 *
 * <p>The signature at the next block start is unambiguous: real mode or vm86, and EIP is a linear
 * address inside the last {@value #MAX_INSN} bytes of the block that just ran. The native block
 * hook ({@code ucblock.c}) tests that with a few loads of the engine's live {@code CPUX86State} and
 * asks {@link UcCallbacks#farReturn} only then; this class finds that state and holds the same test
 * for the engine's Java block hook.
 */
final class FarReturnWatch {
  private FarReturnWatch() {}

  /** {@code CPUState *cpu} in libunicorn 2.0.1's {@code struct uc_struct} (uc_context_save). */
  static final long UC_CPU = 0x180;

  /** {@code void *env_ptr} in its {@code CPUState} (uc_context_save copies from there). */
  static final long CPU_ENV_PTR = 0x128;

  static final long EIP = 128;
  static final long EFLAGS = 136;
  static final long HFLAGS = 176;
  static final long CS_BASE = 184 + 24 + 8;
  static final int HF_PE = 1 << 7;
  static final long EFLAGS_VM = 1L << 17;
  static final int MAX_INSN = 15;
  private static final long ENV_BYTES = 4096;

  /**
   * Whether engines watch for the bug: the "module parameter" {@code toykvm.kernel.retfrepair}
   * (true by default; false for comparisons, as {@code toykvm.kernel.blockgate}).
   */
  static boolean enabled() {
    return !"false".equals(System.getProperty("toykvm.kernel.retfrepair"));
  }

  /**
   * The engine's live {@code CPUX86State}, found through {@code uc->cpu->env_ptr} and checked (an
   * EIP written through the API must show there), or null if this build's layout differs.
   */
  static MemorySegment locate(UcEngine engine) {
    try {
      MemorySegment uc = engine.handle().reinterpret(UC_CPU + 8);
      MemorySegment cpu = uc.get(ADDRESS, UC_CPU).reinterpret(CPU_ENV_PTR + 8);
      if (cpu.address() == 0) {
        return null;
      }
      MemorySegment env = cpu.get(ADDRESS, CPU_ENV_PTR).reinterpret(ENV_BYTES);
      if (env.address() == 0) {
        return null;
      }
      long rip = engine.readReg(Uc.X86_REG_RIP);
      boolean live = true;
      for (long probe : new long[] {0x1234_5678L, 0x0bad_cafeL}) {
        engine.writeReg(Uc.X86_REG_RIP, probe);
        live &= env.get(JAVA_LONG, EIP) == probe;
      }
      engine.writeReg(Uc.X86_REG_RIP, rip);
      return live ? env : null;
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** The native hook's test, for the Java block hook (the CPU state is the block's start). */
  static boolean suspect(MemorySegment env, long prev, int prevSize, long address) {
    if (prevSize == 0) {
      return false;
    }
    if ((env.get(JAVA_INT, HFLAGS) & HF_PE) != 0 && (env.get(JAVA_LONG, EFLAGS) & EFLAGS_VM) == 0) {
      return false;
    }
    long eip = env.get(JAVA_LONG, EIP);
    long into = eip - prev;
    if (Long.compareUnsigned(into, Integer.toUnsignedLong(prevSize)) >= 0
        || Integer.toUnsignedLong(prevSize) - into > MAX_INSN) {
      return false;
    }
    return env.get(JAVA_LONG, CS_BASE) + eip == address;
  }

  /** The EIP in {@code env} now. */
  static long eip(MemorySegment env) {
    return env.get(JAVA_LONG, EIP);
  }
}
