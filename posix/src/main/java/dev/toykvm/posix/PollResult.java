package dev.toykvm.posix;

/**
 * What {@link Poll#poll} reported for one fd.
 *
 * @param fd the fd
 * @param revents the {@code revents} bits ({@link Poll#POLLIN}, {@link Poll#POLLHUP}, {@link
 *     Poll#POLLERR}, {@link Poll#POLLNVAL}); 0 if it is not ready
 */
public record PollResult(int fd, int revents) {

  /** Data to read (or, with {@link #hangup()}, the last data before EOF). */
  public boolean readable() {
    return (revents & Poll.POLLIN) != 0;
  }

  /** The other end is closed: a read returns what is left, then EOF. */
  public boolean hangup() {
    return (revents & Poll.POLLHUP) != 0;
  }

  /** An error condition, or the fd is not open ({@code POLLNVAL}). */
  public boolean error() {
    return (revents & (Poll.POLLERR | Poll.POLLNVAL)) != 0;
  }

  /** Anything at all to report. */
  public boolean ready() {
    return revents != 0;
  }
}
