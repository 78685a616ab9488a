package dev.toykvm.kernel;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last resort of every ioctl: a Java exception that escaped the kernel side's own checks. Each
 * ioctl validates its arguments and answers misuse with KVM's errno; reaching this is a bug in
 * toykvm, so it is logged at ERROR with its stack and counted (the API fuzz test fails if the count
 * is not 0), and the caller gets {@code EIO} naming it as a bug.
 */
final class KernelBug {
  private static final Logger log = LoggerFactory.getLogger(KernelBug.class);
  private static final AtomicLong count = new AtomicLong();

  private KernelBug() {}

  /** Logs and counts {@code t}; returns the {@code EIO} to throw for it. */
  static KvmException report(String ioctl, Throwable t) {
    count.incrementAndGet();
    log.error("BUG: {} let a Java exception through instead of an errno", ioctl, t);
    return new KvmException(
        ioctl, Errno.EIO, "internal error in the kernel side (a toykvm bug, please report): " + t);
  }

  /** How many times {@link #report} was reached in this JVM. */
  static long count() {
    return count.get();
  }
}
