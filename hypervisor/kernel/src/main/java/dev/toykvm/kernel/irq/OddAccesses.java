package dev.toykvm.kernel.irq;

import org.slf4j.Logger;

/** Counts the accesses a driver would not make, and logs the first one. */
final class OddAccesses {
  private final Logger log;
  private final String device;
  private long count;

  OddAccesses(Logger log, String device) {
    this.log = log;
    this.device = device;
  }

  void record(String format, Object... args) {
    if (count++ == 0) {
      log.warn(
          "{}: {} (further odd accesses are only counted)", device, String.format(format, args));
    }
  }

  long count() {
    return count;
  }
}
