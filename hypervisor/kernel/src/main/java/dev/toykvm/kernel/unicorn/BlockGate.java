package dev.toykvm.kernel.unicorn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * A vCPU's block gate ({@code src/main/c/ucblock.c}): the native {@code UC_HOOK_BLOCK} callback
 * records each translation block's start and size here, and calls {@link UcCallbacks#block(long,
 * int)} only while {@link #raise()} has set the attention word. So a block costs a few native
 * instructions, not a Java upcall, unless something is pending.
 *
 * <p>{@link #raise()} is safe from any thread, at any time, also after the engine is gone: the
 * memory lives as long as this object (it outlives every engine that points to it, since the vCPU
 * holds it). Protocol for the engine thread: {@link #clear()} first, then look at what is pending;
 * whatever another thread sets after the clear raises the gate again.
 */
public final class BlockGate {
  static final long SIZE = 72;
  private static final long ATTENTION = 0;
  private static final long BLOCK_SIZE = 4;
  private static final long BLOCK_ADDRESS = 8;
  private static final long UPCALL = 16;
  private static final long ENV = 24;
  private static final long FAR_RETURN_UPCALL = 32;
  private static final long MEMO_SIZE = 64;
  private static final VarHandle ATTENTION_WORD = JAVA_INT.varHandle();

  private final MemorySegment memory = Arena.ofAuto().allocate(SIZE, 8);

  /** Calls the Java block callback at the next block start (any thread). */
  public void raise() {
    ATTENTION_WORD.setVolatile(memory, ATTENTION, 1);
  }

  /** No call at the next block unless raised again (engine thread, before it looks). */
  public void clear() {
    ATTENTION_WORD.setVolatile(memory, ATTENTION, 0);
  }

  /** Whether the next block calls back. */
  public boolean raised() {
    return (int) ATTENTION_WORD.getVolatile(memory, ATTENTION) != 0;
  }

  /** The linear address of the last translation block that started (engine thread). */
  public long blockAddress() {
    return memory.get(JAVA_LONG, BLOCK_ADDRESS);
  }

  /** The size of the last translation block that started (engine thread). */
  public int blockSize() {
    return memory.get(JAVA_INT, BLOCK_SIZE);
  }

  /**
   * Forgets the last block: the next block start has no known predecessor (after every return of
   * {@code uc_emu_start}: the recorded block may not have run, or the VMM may have changed the
   * CPU), and forgets the pair remembered as "not a far return".
   */
  public void forgetBlock() {
    memory.set(JAVA_INT, BLOCK_SIZE, 0);
    forgetPair();
  }

  /** Forgets the block pair remembered as "not a far return" (code may have changed). */
  void forgetPair() {
    memory.set(JAVA_INT, MEMO_SIZE, 0);
  }

  /** Records a block start (the Java hook does it itself when the native gate is missing). */
  void record(long address, int size) {
    memory.set(JAVA_LONG, BLOCK_ADDRESS, address);
    memory.set(JAVA_INT, BLOCK_SIZE, size);
  }

  /** Points the gate at an engine's block upcall stub; returns the hook's user data. */
  MemorySegment bind(MemorySegment upcall) {
    memory.set(ADDRESS, UPCALL, upcall);
    return memory;
  }

  /**
   * Watches for the real-mode far return bug ({@link FarReturnWatch}) on the engine whose live CPU
   * state is {@code env}, calling {@code upcall} when the native hook suspects it; a NULL {@code
   * env} stops watching.
   */
  void watchFarReturns(MemorySegment env, MemorySegment upcall) {
    memory.set(ADDRESS, FAR_RETURN_UPCALL, upcall);
    memory.set(ADDRESS, ENV, env);
    forgetPair();
  }

  /** The hook's user data (for the hooks other than the block hook). */
  MemorySegment userData() {
    return memory;
  }
}
