package dev.toykvm.kernel.irq;

/**
 * One counter of the 8254 (Intel 8254 datasheet, "Operation" and "Mode Definitions"), with its
 * count as a function of the input-clock ticks elapsed since it started counting.
 *
 * <p>Simplifications, all as in QEMU's and KVM's models: a count is loaded at once (not on the next
 * clock edge, so a mode 0 output goes high N ticks after the write, not N+1); a new count in mode 2
 * or 3 takes effect at once rather than at the end of the current period; mode 3 with an odd count
 * is counted as if even; BCD counting is accepted in the control word and reported in the status,
 * but the counter counts in binary.
 */
final class PitChannel {
  private static final long NONE = Long.MAX_VALUE;

  int mode;
  int access = 3; // 1: LSB only, 2: MSB only, 3: LSB then MSB
  boolean bcd;
  private int count = 0x10000; // the loaded count; 0 stands for 65536
  private boolean loaded; // a count has been written since the control word
  private boolean nullCount = true;
  private boolean triggered; // modes 1 and 5: a gate rising edge started the count
  private boolean gate;
  private long startTick; // the tick the count started at
  private long pausedElapsed = -1; // modes 0 and 4 with the gate low: the frozen elapsed ticks
  private int writeLatch = -1; // the LSB written while the MSB is awaited
  private boolean readMsbNext;
  private int latchedCount = -1;
  private boolean latchedMsbNext;
  private int latchedStatus = -1;

  PitChannel(boolean gate) {
    this.gate = gate;
  }

  void control(int mode, int access, boolean bcd) {
    this.mode = mode;
    this.access = access;
    this.bcd = bcd;
    loaded = false;
    nullCount = true;
    triggered = false;
    writeLatch = -1;
    readMsbNext = false;
    latchedCount = -1;
    latchedStatus = -1;
    pausedElapsed = -1;
  }

  /** A byte written to the counter's port; returns true if it completed a count. */
  boolean writeCount(int value, long now) {
    int newCount;
    switch (access) {
      case 1 -> newCount = value;
      case 2 -> newCount = value << 8;
      default -> {
        if (writeLatch < 0) {
          writeLatch = value;
          if (mode == 0) {
            loaded = false; // "writing the first byte disables counting"
          }
          return false;
        }
        newCount = writeLatch | value << 8;
        writeLatch = -1;
      }
    }
    count = newCount == 0 ? 0x10000 : newCount;
    loaded = true;
    nullCount = false;
    triggered = false;
    startTick = now;
    pausedElapsed = gate || !pausesWithGate() ? -1 : 0;
    return true;
  }

  private boolean pausesWithGate() {
    return mode == 0 || mode == 4;
  }

  private boolean hardwareTriggered() {
    return mode == 1 || mode == 5;
  }

  /** The gate input; a rising edge triggers modes 1 and 5 and restarts modes 2 and 3. */
  void setGate(boolean level, long now) {
    boolean rising = level && !gate;
    if (pausesWithGate() && level != gate) {
      if (level && pausedElapsed >= 0) {
        startTick = now - pausedElapsed;
        pausedElapsed = -1;
      } else if (!level) {
        pausedElapsed = elapsed(now);
      }
    }
    gate = level;
    if (rising && loaded && !pausesWithGate()) {
      startTick = now;
      triggered = true;
    }
  }

  boolean gate() {
    return gate;
  }

  private boolean counting() {
    return loaded && (!hardwareTriggered() || triggered);
  }

  private long elapsed(long now) {
    return pausedElapsed >= 0 ? pausedElapsed : now - startTick;
  }

  /** The counter's output at tick {@code now} ("Mode Definitions"). */
  boolean out(long now) {
    if (!loaded) {
      return mode != 0;
    }
    if (!counting()) {
      return true;
    }
    long d = elapsed(now);
    return switch (mode) {
      case 0 -> d >= count;
      case 1 -> d >= count;
      case 2 -> !gate || count == 1 || d % count != count - 1;
      case 3 -> !gate || d % count < (count + 1) / 2;
      default -> d != count; // modes 4 and 5: one tick low at terminal count
    };
  }

  /** The counting element's value at tick {@code now}. */
  int value(long now) {
    if (!counting()) {
      return count & 0xffff;
    }
    long d = elapsed(now);
    return switch (mode) {
      case 2 -> (int) (count - d % count) & 0xffff;
      case 3 -> (int) (count - (2 * d) % count) & 0xfffe;
      default -> (int) (count - d) & 0xffff;
    };
  }

  /**
   * The tick of the output's first rising edge after tick {@code now}, or {@link Long#MAX_VALUE}:
   * every period in modes 2 and 3, once at terminal count in modes 0 and 1, one tick after it in
   * modes 4 and 5.
   */
  long nextRisingEdge(long now) {
    if (!counting() || pausedElapsed >= 0 || ((mode == 2 || mode == 3) && !gate)) {
      return NONE;
    }
    long d = elapsed(now);
    long edge =
        switch (mode) {
          case 2, 3 -> (d / count + 1) * count;
          case 0, 1 -> count;
          default -> count + 1L;
        };
    return edge > d ? startTick + edge : NONE;
  }

  /** The rising edges of the output in ticks (from, to]. */
  long risingEdges(long from, long to) {
    if (!counting() || pausedElapsed >= 0 || ((mode == 2 || mode == 3) && !gate) || to <= from) {
      return 0;
    }
    long a = Math.max(from - startTick, 0);
    long b = to - startTick;
    if (b <= 0) {
      return 0;
    }
    return switch (mode) {
      case 2, 3 -> b / count - a / count;
      default -> {
        long edge = mode <= 1 ? count : count + 1L;
        yield a < edge && edge <= b ? 1 : 0;
      }
    };
  }

  long startTick() {
    return startTick;
  }

  /** Counter latch command: freezes the count for reading, unless a latch is already held. */
  void latchCount(long now) {
    if (latchedCount < 0) {
      latchedCount = value(now);
      latchedMsbNext = access == 2;
    }
  }

  /** Read-back status latch: OUT, null count, RW, mode, BCD ("Read-Back Command"). */
  void latchStatus(long now) {
    if (latchedStatus < 0) {
      latchedStatus =
          (out(now) ? 0x80 : 0) | (nullCount ? 0x40 : 0) | access << 4 | mode << 1 | (bcd ? 1 : 0);
    }
  }

  int read(long now) {
    if (latchedStatus >= 0) {
      int status = latchedStatus;
      latchedStatus = -1;
      return status;
    }
    if (latchedCount >= 0) {
      int value = latchedMsbNext ? latchedCount >>> 8 : latchedCount & 0xff;
      if (access == 3 && !latchedMsbNext) {
        latchedMsbNext = true;
      } else {
        latchedCount = -1;
      }
      return value;
    }
    int value = value(now);
    boolean msb = access == 2 || (access == 3 && readMsbNext);
    if (access == 3) {
      readMsbNext = !readMsbNext;
    }
    return msb ? value >>> 8 : value & 0xff;
  }
}
