package dev.toykvm.ioregionfd;

/**
 * The device behind an {@link IoregionServer}: what it does with each access.
 *
 * <p>{@code userData} is the region's {@code user_data}, so one handler can serve several regions
 * multiplexed on one pair of fds; {@code offset} is from the start of that region. Called on the
 * server's thread, one access at a time, in the order the guest made them.
 *
 * <p>An exception from a handler ends the server (it never answers garbage); what the guest does
 * wrong should instead be answered as the hardware would.
 */
public interface IoregionHandler {

  /**
   * Reads {@code size} bytes at {@code offset} of region {@code userData}.
   *
   * @param size 1, 2, 4 or 8
   * @return the value in the low {@code size} bytes (higher bytes are cleared before sending)
   */
  long read(long userData, long offset, int size);

  /**
   * Writes the low {@code size} bytes of {@code value} at {@code offset} of region {@code
   * userData}.
   *
   * @param size 1, 2, 4 or 8
   * @param value the data, the bytes past {@code size} cleared
   */
  void write(long userData, long offset, int size, long value);
}
