package dev.toykvm.posix;

/**
 * A failed libc call: the call (with its main argument, e.g. {@code write(7)}) and the errno it
 * set, by number and by name.
 *
 * <p>Unchecked, like {@link java.io.UncheckedIOException}: callers that can handle a particular
 * errno (EOF-like {@link Errnos#EPIPE}, {@link Errnos#EBADF}, {@link Errnos#ECHILD}) test {@link
 * #errno()}; the rest let it propagate.
 */
public final class PosixException extends RuntimeException {
  private final String call;
  private final int errno;

  /**
   * @param call the call as it reads in a log, e.g. {@code "write(7)"}
   * @param errno the errno number, e.g. {@link Errnos#EPIPE}
   */
  public PosixException(String call, int errno) {
    super("cannot " + call + ": " + Errnos.errnoName(errno) + " (" + Errnos.strerror(errno) + ")");
    this.call = call;
    this.errno = errno;
  }

  /** The errno number as Linux defines it on x86-64. */
  public int errno() {
    return errno;
  }

  /** The errno's symbolic name, e.g. {@code "EPIPE"}. */
  public String errnoName() {
    return Errnos.errnoName(errno);
  }

  /** The failed call, e.g. {@code "write(7)"}. */
  public String call() {
    return call;
  }
}
