package dev.toykvm.kernel;

/**
 * The search for the instruction libunicorn's translator aborted on (see {@link Untranslatable}):
 * where the next {@code uc_emu_start} must stop, and what a stop means. Pure bookkeeping, one per
 * vCPU, used on its engine thread; the vCPU supplies the guest's code bytes and drops translations
 * through {@link Translations}.
 */
final class UntranslatableSearch {
  /** {@code uc_emu_start}'s end when no search is going on: one no guest can reach. */
  static final long NO_STOP = -1L;

  /** How the vCPU drops the cached translations made while a stop was in place. */
  interface Translations {
    void remove(long begin, long end);
  }

  /** What a stop at {@link #stopAt()} turned out to be. */
  enum AtStop {
    /** The instruction the translator cannot take starts here: raise #UD. */
    UNTRANSLATABLE,
    /** An ordinary instruction: the search goes on past it (or is over). */
    PASSED
  }

  private final Translations translations;
  private long stopAt = NO_STOP;
  private long block = -1;
  private int[] candidates = new int[0];
  private int next;

  UntranslatableSearch(Translations translations) {
    this.translations = translations;
  }

  /** The {@code until} for the next run: a suspected start, or {@link #NO_STOP}. */
  long stopAt() {
    return stopAt;
  }

  /**
   * The translation of the block at linear {@code blockStart} aborted (again): the next place to
   * stop, or false if none is left (the caller reports an internal error).
   *
   * @param code the block's bytes from {@code blockStart}, as far as they are in RAM
   */
  boolean afterAbort(long blockStart, byte[] code, boolean longMode) {
    if (blockStart != block) {
      forget();
      block = blockStart;
      candidates = Untranslatable.candidates(code, longMode);
      next = 0;
    }
    if (next >= candidates.length) {
      forget();
      block = -1;
      return false;
    }
    move(block + candidates[next++]);
    return true;
  }

  /**
   * The run ended normally with the vCPU at linear {@code here}, where {@code code} starts: null if
   * that is not the stop (a real {@code hlt}), else what the stop found.
   */
  AtStop atStop(long here, byte[] code, boolean longMode) {
    if (stopAt == NO_STOP || here != stopAt) {
      return null;
    }
    if (Untranslatable.at(code, longMode)) {
      forget();
      block = -1;
      return AtStop.UNTRANSLATABLE;
    }
    while (next < candidates.length && block + candidates[next] <= here) {
      next++;
    }
    if (next < candidates.length) {
      move(block + candidates[next++]);
    } else {
      forget();
    }
    return AtStop.PASSED;
  }

  /** Sets the stop, dropping translations made with the old one (they end at it). */
  private void move(long linear) {
    forget();
    stopAt = linear;
  }

  private void forget() {
    if (stopAt != NO_STOP && block >= 0) {
      translations.remove(Math.min(block, stopAt), stopAt + 1);
    }
    stopAt = NO_STOP;
  }
}
