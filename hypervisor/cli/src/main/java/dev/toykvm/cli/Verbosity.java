package dev.toykvm.cli;

import ch.qos.logback.classic.Level;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/**
 * {@code -v/--verbose}: raises the log level from WARN (the default, see LogConfigurator) to DEBUG.
 */
final class Verbosity {
  @Option(
      names = {"-v", "--verbose"},
      description = "Log what the VMM does, to stderr (debug level).")
  void setVerbose(boolean verbose) {
    if (verbose
        && LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)
            instanceof ch.qos.logback.classic.Logger root) {
      root.setLevel(Level.DEBUG);
    }
  }

  /**
   * Turns on the kernel side's tracepoints (logger {@code toykvm.trace}, off by default, see
   * LogConfigurator): one line per access the kernel side completes itself (ioregionfd, ioeventfd),
   * which the VMM never sees as an exit. Closing the result turns them back to what they were
   * (toykvm can run more than one VM in a JVM, e.g. in tests).
   */
  static Restore enableKernelTrace() {
    if (LoggerFactory.getLogger("toykvm.trace") instanceof ch.qos.logback.classic.Logger trace) {
      Level before = trace.getLevel();
      trace.setLevel(Level.TRACE);
      return () -> trace.setLevel(before);
    }
    return () -> {};
  }

  /** Puts a setting back as it was. */
  interface Restore extends AutoCloseable {
    @Override
    void close();
  }
}
