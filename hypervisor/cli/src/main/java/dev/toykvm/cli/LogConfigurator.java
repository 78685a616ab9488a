package dev.toykvm.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * toykvm's logging set-up, in code rather than in {@code logback.xml}: reading and interpreting the
 * XML cost each JVM (the VMM and every device JVM) some 30-45 ms at start.
 *
 * <p>Quiet by default: warnings and errors only, on stderr (stdout is the guest's serial line).
 * {@code toykvm -v} raises the root level to DEBUG ({@link Verbosity}); a device process's stderr
 * is logged at INFO under {@code toykvm.device.NAME}; {@code toykvm run --trace} turns on the
 * kernel side's tracepoints (logger {@code toykvm.trace}), printed as bare lines.
 *
 * <p>Found by logback through {@code META-INF/services/ch.qos.logback.classic.spi.Configurator},
 * before it looks for XML. A user's own file still wins: with {@code -Dlogback.configurationFile}
 * set, this configurator steps aside and logback reads that file as usual.
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    ConsoleAppender<ILoggingEvent> stderr =
        console(context, "STDERR", "toykvm: %-5level %logger{0}: %msg%n");
    ConsoleAppender<ILoggingEvent> trace = console(context, "TRACE", "%msg%n");
    Logger tracepoints = context.getLogger("toykvm.trace");
    tracepoints.setLevel(Level.OFF);
    tracepoints.setAdditive(false);
    tracepoints.addAppender(trace);
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.WARN);
    root.addAppender(stderr);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  private static ConsoleAppender<ILoggingEvent> console(
      LoggerContext context, String name, String pattern) {
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(pattern);
    encoder.start();
    ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
    appender.setContext(context);
    appender.setName(name);
    appender.setTarget("System.err");
    appender.setEncoder(encoder);
    appender.start();
    return appender;
  }
}
