package dev.toykvm.kernel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Keeps {@code KVM_MEM_READONLY} memory unchanged as the guest sees it. KVM turns a write to a
 * read-only slot into {@code KVM_EXIT_MMIO} and the memory never changes.
 *
 * <p>Unicorn 2.0.1 (measured) offers two answers to its {@code UC_HOOK_MEM_WRITE_PROT} hook: "not
 * handled" drops the store but stops with RIP at the start of the translation block and the block's
 * earlier instructions already done (so going on would do them twice), and "handled" lets the store
 * land. So the store lands, and the old bytes go back before the guest can see the new ones:
 *
 * <ul>
 *   <li>a read of the written bytes: a {@code UC_HOOK_MEM_READ} on exactly those bytes, added with
 *       the write, puts them back before the load (Unicorn calls read hooks before loading, on the
 *       slow path every load takes once the engine has any memory hook, as toykvm's engines always
 *       do for MMIO);
 *   <li>executing them: the next block start puts them back and drops their translations; if that
 *       block itself covers them (it was translated from the written bytes), the engine stops
 *       before it runs and starts again there, so it is translated anew.
 * </ul>
 *
 * <p>One more quirk: when the write hits the block that is running (code in ROM patching the code
 * after it, or itself), QEMU's precise self-modifying-code support abandons the block before the
 * store and runs the writing instruction again alone, so the hook sees the same write twice. The
 * repetition is recognised (same address, size and value, the next block) and is not a second exit.
 */
final class ReadOnlyRestores {
  /** Guest-physical memory as the slots hold it, read-only slots included. */
  interface Memory {
    /** The bytes at {@code address}, or null if no slot holds all of them. */
    byte[] read(long address, int length);

    /** Puts {@code bytes} at {@code address}, into whatever slot holds them. */
    void write(long address, byte[] bytes);

    /**
     * The other guest-physical ranges that show the host bytes of {@code [address, +length)} (slots
     * mapping the same memory, as a PC's ROM and its alias below 1 MiB), each as {@code {start,
     * length}}; clipped to the part they share.
     */
    default List<long[]> aliases(long address, int length) {
      return List.of();
    }
  }

  /** What it needs from the engine. */
  interface Engine {
    /** Calls back before every guest read of {@code [begin, end]}; returns the hook's handle. */
    long hookReads(long begin, long end);

    /** Removes a hook. */
    void removeHook(long handle);

    /** Drops the cached translations of {@code [begin, end)}. */
    void removeTranslations(long begin, long end);

    /** The engine of the moment from {@code engine} (a vCPU's engine can be replaced). */
    static Engine of(java.util.function.Supplier<dev.toykvm.kernel.unicorn.UcEngine> engine) {
      return new Engine() {
        @Override
        public long hookReads(long begin, long end) {
          return engine.get().hookReads(begin, end);
        }

        @Override
        public void removeHook(long handle) {
          engine.get().removeHook(handle);
        }

        @Override
        public void removeTranslations(long begin, long end) {
          engine.get().removeTranslations(begin, end);
        }
      };
    }
  }

  /** A landed write: its old bytes, and where the guest can see them ({@code views}). */
  private record Restore(long address, byte[] bytes, List<long[]> views, long[] hooks) {
    boolean overlaps(long start, long end) {
      for (long[] v : views) {
        if (v[0] < end && start < v[0] + v[1]) {
          return true;
        }
      }
      return false;
    }
  }

  private final Memory memory;
  private final Engine engine;
  private final List<Restore> restores = new ArrayList<>();
  // The translation block running now, from the block hook or the block gate.
  private long blockStart;
  private long blockEnd;
  // A write QEMU will repeat (it hit the running block), until the block after it is over.
  private boolean replay;
  private int replayBlocks;
  private long replayAddress;
  private int replaySize;
  private long replayValue;

  ReadOnlyRestores(Memory memory, Engine engine) {
    this.memory = memory;
    this.engine = engine;
  }

  /** Whether no write waits to be undone. */
  boolean isEmpty() {
    return restores.isEmpty();
  }

  /**
   * Whether every block start must call {@link #blockStarts}: a write waits to be undone, or QEMU's
   * repetition of one is expected.
   */
  boolean watching() {
    return replay || !restores.isEmpty();
  }

  /**
   * The block running now, as the native block gate recorded it (block starts call {@link
   * #blockStarts} only while {@link #watching}).
   */
  void atBlock(long address, int size) {
    blockStart = address;
    blockEnd = address + size;
  }

  /**
   * A translation block starts (the block hook, while {@link #watching}). Puts back what was
   * written; returns true if the block covers written bytes, so it must not run as translated: the
   * caller stops and starts again at its address.
   */
  boolean blockStarts(long address, int size) {
    blockStart = address;
    blockEnd = address + size;
    if (replay && replayBlocks++ > 0) {
      replay = false; // the repetition did not come in the block after the write
    }
    if (restores.isEmpty()) {
      return false;
    }
    boolean covered = false;
    for (Restore r : restores) {
      // Only bytes that changed matter: a write QEMU abandoned (see isNewWrite) never landed.
      covered |=
          r.overlaps(blockStart, blockEnd)
              && !Arrays.equals(memory.read(r.address(), r.bytes().length), r.bytes());
    }
    restoreAll();
    return covered;
  }

  /**
   * A write to read-only memory was hooked. Returns true if the VMM must see it, false if it is
   * QEMU's repetition of a write it has already seen.
   */
  boolean isNewWrite(long address, int size, long value) {
    if (replay && address == replayAddress && size == replaySize && value == replayValue) {
      replay = false;
      return false;
    }
    replay = address < blockEnd && blockStart < address + size;
    if (replay) {
      replayBlocks = 0;
      replayAddress = address;
      replaySize = size;
      replayValue = value;
    }
    return true;
  }

  /**
   * The hooked write is about to land: remembers the bytes it overwrites (read now, after the VMM
   * has seen the exit: the VMM may change its own memory) and watches reads of them.
   */
  void willLand(long address, int size) {
    byte[] old = memory.read(address, size);
    if (old != null) {
      // A read through another slot of the same memory (the ROM's alias) must put them back too.
      List<long[]> views = new ArrayList<>();
      views.add(new long[] {address, size});
      views.addAll(memory.aliases(address, size));
      long[] hooks = new long[views.size()];
      for (int i = 0; i < hooks.length; i++) {
        hooks[i] = engine.hookReads(views.get(i)[0], views.get(i)[0] + views.get(i)[1] - 1);
      }
      restores.add(new Restore(address, old, views, hooks));
    }
  }

  /** Puts back the old bytes of every write that landed, newest first (also before a read). */
  void restoreAll() {
    for (int i = restores.size() - 1; i >= 0; i--) {
      Restore r = restores.get(i);
      memory.write(r.address(), r.bytes());
      for (long hook : r.hooks()) {
        engine.removeHook(hook);
      }
      // Only the written range: libunicorn 2.0.1 crashed the JVM (SIGSEGV in the translated
      // store) when asked to drop the translations of the alias's range as well (measured with
      // guest-firmware's fwtest). Not covered, therefore: code translated from the alias while
      // the written bytes were there (ROM code patching itself through the other view).
      engine.removeTranslations(r.address(), r.address() + r.bytes().length);
    }
    restores.clear();
  }
}
