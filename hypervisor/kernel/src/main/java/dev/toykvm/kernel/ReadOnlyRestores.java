package dev.toykvm.kernel;

import java.util.ArrayList;
import java.util.List;

/**
 * KVM turns a write to a {@code KVM_MEM_READONLY} slot into {@code KVM_EXIT_MMIO} and leaves the
 * memory alone. Unicorn can only let the write happen or abort the instruction, so the VMM gets its
 * exit and the old bytes go back at the start of the next translation block: until then, the rest
 * of the current block would read the written value.
 */
final class ReadOnlyRestores {
  /** Guest-physical memory as the slots hold it, read-only slots included. */
  interface Memory {
    /** The bytes at {@code address}, or null if no slot holds all of them. */
    byte[] read(long address, int length);

    /** Puts {@code bytes} at {@code address}, into whatever slot holds them. */
    void write(long address, byte[] bytes);
  }

  /** What it needs from the engine. */
  interface Engine {
    /** Drops the cached translations of {@code [begin, end)}. */
    void removeTranslations(long begin, long end);
  }

  private record Restore(long address, byte[] bytes) {}

  private final Memory memory;
  private final Engine engine;
  private final List<Restore> restores = new ArrayList<>();

  ReadOnlyRestores(Memory memory, Engine engine) {
    this.memory = memory;
    this.engine = engine;
  }

  /** Whether no write waits to be undone. */
  boolean isEmpty() {
    return restores.isEmpty();
  }

  /** A write of {@code size} bytes to read-only memory is about to land: remember the old bytes. */
  void willLand(long address, int size) {
    byte[] old = memory.read(address, size);
    if (old != null) {
      restores.add(new Restore(address, old));
    }
  }

  /** Puts back the old bytes of every write that landed, newest first. */
  void restoreAll() {
    for (int i = restores.size() - 1; i >= 0; i--) {
      Restore r = restores.get(i);
      memory.write(r.address(), r.bytes());
      engine.removeTranslations(r.address(), r.address() + r.bytes().length);
    }
    restores.clear();
  }
}
