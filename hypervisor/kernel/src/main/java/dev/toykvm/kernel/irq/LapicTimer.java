package dev.toykvm.kernel.irq;

/**
 * The local APIC timer's counting (Intel SDM vol. 3A, 11.5.4): an initial count, a divide
 * configuration and a one-shot or periodic mode, counted as deadlines on a nanosecond clock.
 *
 * <p>The bus clock is 1 GHz, as KVM's ({@code APIC_BUS_CYCLE_NS = 1}): one count takes {@code
 * divide} nanoseconds. As KVM does, a periodic timer's period is never shorter than {@link
 * #MIN_PERIOD_NS} (KVM's {@code min_timer_period_us}, 200 us), so a guest cannot make its vCPU do
 * nothing but take timer interrupts; the current count then counts through the longer period.
 */
final class LapicTimer {
  static final long BUS_CYCLE_NS = 1;
  static final long MIN_PERIOD_NS = 200_000;
  static final long NONE = Long.MAX_VALUE;

  private long initialCount;
  private int divide = 2; // TDCR 0000b at reset: divide by 2
  private boolean periodic;
  private long period; // ns, 0 while stopped
  private long deadline = NONE;

  /** TDCR bits 0, 1 and 3 (SDM Figure 11-10): 2, 4, 8, 16, 32, 64, 128, 1. */
  static int divideOf(int tdcr) {
    int code = (tdcr & 3) | ((tdcr & 8) >>> 1);
    return 1 << ((code + 1) & 7);
  }

  int divide() {
    return divide;
  }

  /** Writing the initial count (re)starts the timer from now; 0 stops it. */
  void start(long initialCount, long now) {
    this.initialCount = initialCount & 0xffff_ffffL;
    if (this.initialCount == 0) {
      period = 0;
      deadline = NONE;
      return;
    }
    period = this.initialCount * BUS_CYCLE_NS * divide;
    if (periodic) {
      period = Math.max(period, MIN_PERIOD_NS);
    }
    deadline = now + period;
  }

  /** A new divide value: the count left so far is kept, the rest runs at the new rate. */
  void setDivide(int tdcr, long now) {
    int old = divide;
    int next = divideOf(tdcr);
    if (old == next || deadline == NONE) {
      divide = next;
      return;
    }
    long remainingCounts = currentCount(now);
    divide = next;
    period = initialCount * BUS_CYCLE_NS * divide;
    if (periodic) {
      period = Math.max(period, MIN_PERIOD_NS);
    }
    deadline = now + remainingCounts * BUS_CYCLE_NS * divide;
  }

  /** A mode change stops the timer (the initial count reads 0 afterwards, as in KVM). */
  boolean setPeriodic(boolean periodic) {
    if (periodic == this.periodic) {
      return false;
    }
    this.periodic = periodic;
    stop();
    return true;
  }

  void stop() {
    initialCount = 0;
    period = 0;
    deadline = NONE;
  }

  /** The current count register (SDM 11.5.4): counts down to 0; a one-shot stays at 0. */
  long currentCount(long now) {
    if (deadline == NONE) {
      return 0;
    }
    long remaining = deadline - now;
    if (remaining < 0) {
      remaining = periodic ? Math.floorMod(remaining, period) : 0;
    }
    return Math.min(remaining / (BUS_CYCLE_NS * divide), 0xffff_ffffL);
  }

  /** When the timer next expires, or {@link #NONE}. */
  long deadline() {
    return deadline;
  }

  /**
   * Expires the timer if its deadline has passed: a one-shot stops, a periodic timer moves to its
   * next deadline after {@code now}, missed periods coalescing into this one expiry (the IRR bit
   * can hold only one).
   */
  boolean expire(long now) {
    if (deadline == NONE || now < deadline) {
      return false;
    }
    if (periodic) {
      deadline += period * ((now - deadline) / period + 1);
    } else {
      deadline = NONE;
    }
    return true;
  }
}
