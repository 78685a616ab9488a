package dev.toykvm.kernel.unicorn;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;

/**
 * When a {@code uc_emu_stop} from another thread is exact in Debian's libunicorn 2.0.1, and the
 * switch that makes it so (measured and read from the library's code; {@code docs/performance.md},
 * "Guest speed").
 *
 * <p>{@code uc_emu_stop} sets the engine's stop flag and calls QEMU's {@code cpu_exit}, which makes
 * {@code icount_decr} negative. Generated code tests that word at the entry of every translation
 * block, which is exact (the block has not started; RIP is its start). But Unicorn's {@code
 * tcg_gen_qemu_ld/st} also emit the same test after <em>every guest load and store</em> ({@code
 * check_exit_request}, so that a memory hook can stop right after its access), and that exit leaves
 * with RIP at the start of the block while the block's earlier instructions are done: resuming
 * there does them again (+1 to a counter per stop on a store loop). The check is skipped at
 * translation time when the engine's {@code no_exit_request} flag is set (Unicorn uses it for ARM
 * IT blocks; x86 never sets it). {@link #makeExact} sets it, so that translations made from then on
 * leave only at block entries, and an asynchronous stop lands exactly between two blocks.
 *
 * <p>The flag is a byte of the private {@code struct uc_struct}, at offset {@value
 * #NO_EXIT_REQUEST} in this build (the operand of {@code cmpb $0,0x78a(%rax)} in {@code
 * check_exit_request_x86_64}). What it changes: a {@code uc_emu_stop} inside a memory callback, and
 * an access to unmapped memory, end the block at its next entry instead of right after the access.
 */
public final class AsyncStop {
  private AsyncStop() {}

  /** Offset of {@code bool no_exit_request} in libunicorn 2.0.1's {@code struct uc_struct}. */
  static final long NO_EXIT_REQUEST = 0x78a;

  /**
   * Sets {@code no_exit_request} on {@code engine}, before it translates anything: stops from other
   * threads then land exactly at block entries.
   *
   * @throws IllegalStateException if the byte is not the expected {@code false}: another build of
   *     the library, whose layout this does not know
   */
  public static void makeExact(UcEngine engine) {
    MemorySegment uc = engine.handle().reinterpret(NO_EXIT_REQUEST + 1);
    byte now = uc.get(JAVA_BYTE, NO_EXIT_REQUEST);
    if (now != 0 && now != 1) {
      throw new IllegalStateException(
          "libunicorn's no_exit_request is not at offset 0x78a (byte there: " + now + ")");
    }
    uc.set(JAVA_BYTE, NO_EXIT_REQUEST, (byte) 1);
  }
}
