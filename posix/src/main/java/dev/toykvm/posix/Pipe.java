package dev.toykvm.posix;

/**
 * The two ends of a pipe from {@link Fds#pipe2()}, both close-on-exec. Whoever holds it owns both
 * fds: {@link #close()} closes the ends that are still open (see {@link #closeReadEnd()} and {@link
 * #closeWriteEnd()} for handing one end to a child).
 */
public final class Pipe implements AutoCloseable {
  private int readFd;
  private int writeFd;

  Pipe(int readFd, int writeFd) {
    this.readFd = readFd;
    this.writeFd = writeFd;
  }

  /** The read end, or -1 once closed. */
  public int readFd() {
    return readFd;
  }

  /** The write end, or -1 once closed. */
  public int writeFd() {
    return writeFd;
  }

  /** Closes the read end (idempotent). */
  public void closeReadEnd() {
    int fd = readFd;
    readFd = -1;
    if (fd >= 0) {
      Fds.close(fd);
    }
  }

  /** Closes the write end (idempotent): the reader then sees EOF once the pipe is drained. */
  public void closeWriteEnd() {
    int fd = writeFd;
    writeFd = -1;
    if (fd >= 0) {
      Fds.close(fd);
    }
  }

  /** Closes both ends that are still open. */
  @Override
  public void close() {
    try {
      closeReadEnd();
    } finally {
      closeWriteEnd();
    }
  }

  @Override
  public String toString() {
    return "Pipe[read=" + readFd + ", write=" + writeFd + "]";
  }
}
