package dev.toykvm.ioregionfd;

/**
 * What a device waits for besides commands: fds such as resamplefds and an input stream, and a
 * deadline (a UART's character timeout). An {@link IoregionServer} given these waits for all of
 * them and for its command fd at once in one {@code poll(2)}, and calls them on its own thread,
 * between commands, so the device needs no lock against them.
 */
public interface SideEvents {

  /**
   * The fds to wait on for {@code POLLIN}, asked before each wait (the set may change: an input
   * whose consumer is full is left out). A negative entry is skipped.
   */
  int[] fds();

  /**
   * {@code fds()[index]} is readable, hung up or in error.
   *
   * @param revents the {@code poll(2)} bits it reported
   */
  void ready(int index, int revents);

  /** How long the wait may last, in milliseconds: -1 for no deadline, 0 to only look. */
  int timeoutMs();

  /** Called after every wait (whatever woke it): a deadline that passed is handled here. */
  void tick();

  /**
   * Whether the fds carry messages ordered with the commands (a PCI function's state: written
   * before the guest's next access): then the server also looks at them, without waiting, after
   * each read of commands and before serving those commands, so a message written before a command
   * is applied before it even when both arrived during one wait. Costs one {@code poll(2)} per read
   * of commands.
   */
  default boolean ordered() {
    return false;
  }
}
