package dev.toykvm.kernel;

import dev.toykvm.kvm.KvmSregs;
import java.util.HashMap;
import java.util.Map;

/**
 * What a vCPU's block starts say about a guest that waits for a device by spinning, for its posted
 * writes ({@link PostedWrites}); the kernel side's counterpart of KVM's pause-loop exiting.
 *
 * <p>Two things, both at the translation block starts the engine sees while its block gate is
 * raised:
 *
 * <ol>
 *   <li><b>A loop without a posted write.</b> While posted writes wait in a batch, a block start at
 *       an address the guest has started since its last posted write means that the guest loops
 *       without writing: it has stopped writing (it polls memory for the device's answer, or
 *       computes), so the batch goes now rather than after {@code PostedBatch.IDLE_NANOS}. A loop
 *       of up to {@link #RING} blocks is recognised on its second turn. A burst of posted writes in
 *       a loop adds a write before each return, so it still goes out in one batch.
 *   <li><b>Giving the CPU away while the guest spins.</b> After a batch went out because the guest
 *       stopped writing (such a loop, or {@code PostedBatch.IDLE_NANOS} without a write), the
 *       engine watches on for up to {@link #MAX_BLOCKS_AWAY} blocks. If the guest loops and its
 *       loop has a {@code pause} (the instruction x86 asks spin-wait loops to use, and that KVM's
 *       pause-loop exiting keys on; QEMU's translator ends a block after it, so a block ending in
 *       {@code f3 90} is one), the guest says it is waiting: the engine yields its CPU ({@code
 *       sched_yield}) at once, and again each {@link #YIELD_EVERY_NANOS} while the guest keeps
 *       coming back to the block where it was seen spinning (the anchor), until {@link
 *       #WINDOW_NANOS} after the batch went. The device process may share the vCPU's CPU: a
 *       spinning vCPU would otherwise keep it until the scheduler takes it away (measured: about
 *       one read in 500 waited for a 4 ms scheduler tick). The window closes at the next posted
 *       write, at its end, or after {@link #MAX_BLOCKS_AWAY} block starts without the anchor. A
 *       loop without {@code pause} (a {@code memset} between two doorbells) is work, not a wait:
 *       yielding there handed the CPU to a device with nothing to do for the guest (measured: MSI-X
 *       at depth 16 on one CPU lost a third of its IOPS).
 * </ol>
 *
 * <p>Engine thread only. Times are {@link System#nanoTime()} values passed in. Whether a block ends
 * in {@code pause} is read from guest memory once per block (start, size) and remembered: a stale
 * answer after code changes only misplaces a yield.
 */
final class SpinWatch {
  /** The longest loop, in blocks, recognised as a loop. */
  static final int RING = 8;

  /** How long after a batch goes out the vCPU may still yield to the device. */
  static final long WINDOW_NANOS = 1_000_000;

  /** How often, at most, a spinning vCPU yields. */
  static final long YIELD_EVERY_NANOS = 20_000;

  /** Block starts without a spin (or away from the anchor) that end the watch. */
  static final int MAX_BLOCKS_AWAY = 64;

  /** Blocks whose {@code pause} answer is remembered, at most. */
  static final int PROBED_BLOCKS = 256;

  /** Reads whether the block at a linear address, of a size, ends with {@code pause}. */
  interface PauseProbe {
    boolean endsWithPause(long linear, int size);
  }

  private enum State {
    /** Nothing to watch: no batch went out since the last posted write. */
    IDLE,
    /** A batch went out because the guest stopped writing: does it spin? */
    WATCHING,
    /** It spins (a loop with {@code pause}): yield at the anchor. */
    SPINNING
  }

  private final Runnable yield;
  private final PauseProbe probe;
  private final Map<Long, Boolean> probed = new HashMap<>();
  private final long[] recent = new long[RING];
  private final int[] sizes = new int[RING];
  private int recorded; // valid entries of recent, at most RING
  private int next; // where the next address goes
  private State state = State.IDLE;
  private long anchor;
  private long windowEnd;
  private long lastYield;
  private int away;

  /**
   * @param yield gives the CPU away ({@code Thread::yield}, which is {@code sched_yield(2)}) and
   *     counts it
   * @param probe reads whether a block ends with {@code pause}
   */
  SpinWatch(Runnable yield, PauseProbe probe) {
    this.yield = yield;
    this.probe = probe;
  }

  /** The probe of a vCPU: the last two bytes of the block, read through its page tables. */
  static PauseProbe probe(StringIo.Guest guest) {
    return (linear, size) -> {
      if (size < 2) {
        return false;
      }
      KvmSregs s = guest.sregs();
      return codeByte(guest, s, linear + size - 2) == 0xf3
          && codeByte(guest, s, linear + size - 1) == 0x90;
    };
  }

  private static int codeByte(StringIo.Guest guest, KvmSregs s, long linear) {
    long phys = guest.toPhysical(s, linear);
    byte[] b = phys < 0 ? null : guest.read(phys, 1);
    return b == null ? -1 : b[0] & 0xff;
  }

  /** A posted write was added: the blocks seen so far are no loop, and the guest does not wait. */
  void writeAdded() {
    recorded = 0;
    next = 0;
    state = State.IDLE;
  }

  /**
   * At a block start while posted writes wait: whether the guest started this block since its last
   * posted write (it loops without writing). Remembers the block either way.
   */
  boolean loopsBack(long address, int size) {
    for (int i = 0; i < recorded; i++) {
      if (recent[i] == address) {
        return true;
      }
    }
    recent[next] = address;
    sizes[next] = size;
    next = (next + 1) % RING;
    recorded = Math.min(recorded + 1, RING);
    return false;
  }

  /** Whether a block the guest started since its last posted write ends with {@code pause}. */
  boolean loopPauses() {
    for (int i = 0; i < recorded; i++) {
      long key = recent[i] ^ (long) sizes[i] << 52;
      Boolean pauses = probed.get(key);
      if (pauses == null) {
        if (probed.size() >= PROBED_BLOCKS) {
          probed.clear();
        }
        pauses = probe.endsWithPause(recent[i], sizes[i]);
        probed.put(key, pauses);
      }
      if (pauses) {
        return true;
      }
    }
    return false;
  }

  /**
   * The batch went out at {@code now}, at the block starting at {@code address}, because the guest
   * stopped writing: {@code looped} if it came back to a block ({@link #loopsBack}), else because
   * it wrote nothing for a while. A loop with {@code pause} yields now; a loop without is work and
   * ends the watch; otherwise the watch goes on at the next blocks.
   */
  void stopped(long now, boolean looped, long address) {
    windowEnd = now + WINDOW_NANOS;
    away = 0;
    state = State.WATCHING;
    if (looped) {
      looped(now, address);
    }
  }

  /** Whether the engine must see the next block start. */
  boolean watching() {
    return state != State.IDLE;
  }

  /**
   * At a block start while no posted write waits: goes on watching for a spin, and yields while the
   * guest spins. Returns whether the next block start must be seen too.
   */
  boolean atBlock(long now, long address, int size) {
    if (state == State.IDLE) {
      return false;
    }
    if (now - windowEnd >= 0) {
      state = State.IDLE;
    } else if (state == State.WATCHING) {
      if (loopsBack(address, size)) {
        looped(now, address);
      } else if (++away > MAX_BLOCKS_AWAY) {
        state = State.IDLE;
      }
    } else if (address == anchor) {
      away = 0;
      if (now - lastYield >= YIELD_EVERY_NANOS) {
        yieldNow(now);
      }
    } else if (++away > MAX_BLOCKS_AWAY) {
      state = State.IDLE;
    }
    return state != State.IDLE;
  }

  private void looped(long now, long address) {
    if (loopPauses()) {
      state = State.SPINNING;
      anchor = address;
      away = 0;
      yieldNow(now);
    } else {
      state = State.IDLE;
    }
  }

  private void yieldNow(long now) {
    yield.run();
    lastYield = now;
  }
}
