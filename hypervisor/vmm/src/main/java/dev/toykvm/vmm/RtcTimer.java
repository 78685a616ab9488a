package dev.toykvm.vmm;

import dev.toykvm.devices.pc.CmosRtc;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The thread that makes the CMOS/RTC's interrupts happen on time: it sleeps until the RTC's next
 * deadline ({@link CmosRtc#nextInterruptNanos()}), then {@link CmosRtc#poll() polls} it, which
 * raises IRQ 8 if a period, update or alarm came. When the guest changes what the deadline depends
 * on, the RTC's change listener wakes it to look again. With no interrupt enabled it sleeps until
 * woken. {@link #close()} stops and joins it.
 */
final class RtcTimer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RtcTimer.class);

  private final CmosRtc rtc;
  private final Clock clock;
  private final Object lock = new Object();
  private final Thread thread;
  private boolean changed;
  private boolean closed;

  /**
   * @param clock the clock the RTC was made with (its deadlines are on it)
   */
  RtcTimer(CmosRtc rtc, Clock clock) {
    this.rtc = rtc;
    this.clock = clock;
    rtc.setChangeListener(this::wake);
    thread = Thread.ofPlatform().daemon().name("toykvm-rtc").start(this::loop);
  }

  private void wake() {
    synchronized (lock) {
      changed = true;
      lock.notifyAll();
    }
  }

  private void loop() {
    try {
      while (true) {
        long deadline = rtc.nextInterruptNanos();
        synchronized (lock) {
          while (!closed && !changed) {
            long wait = deadline == Long.MAX_VALUE ? 0 : deadline - nowNanos();
            if (deadline != Long.MAX_VALUE && wait <= 0) {
              break;
            }
            if (wait == 0) {
              lock.wait();
            } else {
              lock.wait(wait / 1_000_000, (int) (wait % 1_000_000));
            }
          }
          if (closed) {
            return;
          }
          changed = false;
        }
        rtc.poll();
      }
    } catch (InterruptedException e) {
      log.debug("rtc: timer interrupted, stopping");
    } catch (RuntimeException e) {
      log.warn("rtc: the timer stopped: {}", e.toString(), e);
    }
  }

  private long nowNanos() {
    java.time.Instant t = clock.instant();
    return t.getEpochSecond() * 1_000_000_000L + t.getNano();
  }

  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      lock.notifyAll();
    }
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
