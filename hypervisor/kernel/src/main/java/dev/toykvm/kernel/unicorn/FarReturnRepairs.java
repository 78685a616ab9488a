package dev.toykvm.kernel.unicorn;

import java.lang.foreign.MemorySegment;

/**
 * One engine's repairs of libunicorn's real-mode retf bug (see {@link FarReturnWatch}): what the
 * block hook found (the EIP to run on from), the Java hook's memory of a block pair that is not a
 * retf, and the answers the native watch in {@code ucblock.c} gets. Engine thread only.
 */
final class FarReturnRepairs {
  // What the far-return upcall answers ucblock.c (its FAR_RETURN_* values).
  static final int NOT = 0;
  static final int REPAIRED = 1;
  static final int KEEP = 2;

  private final UcCallbacks callbacks;
  private final Runnable stop;
  private MemorySegment env; // the live CPUX86State while the watch is on, else null
  private long repairedEip = -1; // set by the upcall that stopped the engine
  private long memoPrev = -1; // the Java hook's pair found not to be a far return
  private long memoAddress = -1;
  private long memoEip = -1;

  FarReturnRepairs(UcCallbacks callbacks, Runnable stop) {
    this.callbacks = callbacks;
    this.stop = stop;
  }

  void watch(MemorySegment env) {
    this.env = env;
  }

  boolean watching() {
    return env != null;
  }

  MemorySegment env() {
    return env;
  }

  /** The EIP the block hook found, once (-1 if none). */
  long takeRepairedEip() {
    long eip = repairedEip;
    repairedEip = -1;
    return eip;
  }

  void forget() {
    memoPrev = -1;
  }

  /** The EIP a far return must have when the run stopped right after it, or -1. */
  long afterStop(BlockGate gate) {
    if (env == null || gate == null || gate.blockSize() == 0) {
      return -1;
    }
    long eip = callbacks.farReturn(gate.blockAddress(), gate.blockSize());
    return eip >= 0 && eip != FarReturnWatch.eip(env) ? eip : -1;
  }

  /** The native gate's watch in Java (no native gate); true if the engine stopped to repair EIP. */
  boolean inJava(long prev, int prevSize, long address) {
    long eip = FarReturnWatch.eip(env);
    if ((prev == memoPrev && address == memoAddress && eip == memoEip)
        || !FarReturnWatch.suspect(env, prev, prevSize, address)) {
      return false;
    }
    int answer = answer(prev, prevSize);
    if (answer == NOT) {
      memoPrev = prev;
      memoAddress = address;
      memoEip = eip;
    }
    return answer == REPAIRED;
  }

  /** Whether the block pair is a retf that left EIP wrong; if so, stops the engine before it. */
  int answer(long prev, int prevSize) {
    long eip = callbacks.farReturn(prev, prevSize);
    if (eip == UcCallbacks.NOT_A_FAR_RETURN) {
      return NOT;
    }
    if (eip < 0 || eip == FarReturnWatch.eip(env)) {
      return KEEP;
    }
    repairedEip = eip;
    stop.run(); // before this block: exact (see AsyncStop); UcEngine.start sets EIP and runs on
    return REPAIRED;
  }
}
