package dev.toykvm.kernel.unicorn;

/**
 * What an engine calls back into while the guest runs. Called on the engine's thread, from inside
 * {@code uc_emu_start}. {@link UcEngine} catches every {@link Throwable} at the upcall boundary and
 * reports it through {@link #upcallFailed} (an exception escaping an upcall would end the JVM).
 */
public interface UcCallbacks {
  /** A read from an MMIO range; {@code address} is guest-physical. */
  long mmioRead(long address, int size);

  /** A write to an MMIO range; {@code address} is guest-physical. */
  void mmioWrite(long address, int size, long value);

  /** A {@code UC_HOOK_MEM_READ/WRITE} on an MMIO range: the whole access, before its pieces. */
  void mmioAccess(boolean write, long address, int size, long value);

  /** {@code in}: returns the value read. */
  int ioIn(int port, int size);

  /** {@code out}. */
  void ioOut(int port, int size, int value);

  /** An interrupt or exception Unicorn raised instead of delivering it. */
  void interrupt(int vector);

  /**
   * The start of a translation block of {@code size} bytes at linear {@code address}, before its
   * code runs: the place to notice a kick.
   */
  void block(long address, int size);

  /** An access no mapping covers; return true if handled (the access then retries). */
  boolean unmapped(int type, long address, int size, long value);

  /**
   * A write to read-only memory. Unicorn performs the write once this returns; the callee must put
   * the old bytes back before the guest can observe them.
   */
  void readOnlyWrite(long address, int size, long value);

  /** A guest read of a range hooked with {@link UcEngine#hookReads}, before the load. */
  void hookedRead(long address, int size);

  /** {@code cpuid}: return true if handled (registers set), false to let Unicorn answer. */
  boolean cpuid();

  /**
   * The block hook suspects that the block of {@code prevSize} bytes at linear {@code prevAddress}
   * ended with a real-mode or vm86 {@code retf} whose EIP libunicorn overwrote with the retf's own
   * linear address ({@link FarReturnWatch}); the CPU state is right after that block. Returns the
   * EIP the retf popped if EIP must be set to it (the engine then stops before the next block, sets
   * it and runs on), {@link #NOT_A_FAR_RETURN} if the block did not end with a retf at EIP, or
   * {@link #NO_REPAIR}.
   */
  default long farReturn(long prevAddress, int prevSize) {
    return NO_REPAIR;
  }

  /** {@link #farReturn}: the block's last instruction is not a retf at EIP. */
  long NOT_A_FAR_RETURN = -1;

  /** {@link #farReturn}: nothing to repair this time (not remembered). */
  long NO_REPAIR = -2;

  /** A callback threw; the engine has already asked Unicorn to stop. */
  void upcallFailed(Throwable failure);
}
