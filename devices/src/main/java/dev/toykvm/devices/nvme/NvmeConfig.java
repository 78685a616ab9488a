package dev.toykvm.devices.nvme;

import java.nio.charset.StandardCharsets;

/**
 * What a controller is made with.
 *
 * @param ioQueues I/O submission/completion queue pairs the controller offers, {@value
 *     #MIN_IO_QUEUES} to {@value #MAX_IO_QUEUES}; MSI-X vectors are one more (vector 0 for the
 *     admin queue)
 * @param serial Identify Controller's serial number: printable ASCII, at most 20 characters
 * @param model Identify Controller's model number: printable ASCII, at most 40 characters
 */
public record NvmeConfig(int ioQueues, String serial, String model) {
  public static final int MIN_IO_QUEUES = 1;
  public static final int MAX_IO_QUEUES = 16;
  public static final String DEFAULT_SERIAL = "TOYKVM-NVME-0001";
  public static final String DEFAULT_MODEL = "toykvm NVMe Ctrl";

  /**
   * @throws IllegalArgumentException if a value is out of range, saying which
   */
  public NvmeConfig {
    if (ioQueues < MIN_IO_QUEUES || ioQueues > MAX_IO_QUEUES) {
      throw new IllegalArgumentException(
          "cannot configure an NVMe controller: %d I/O queues, not %d-%d"
              .formatted(ioQueues, MIN_IO_QUEUES, MAX_IO_QUEUES));
    }
    checkAscii("serial", serial, 20);
    checkAscii("model", model, 40);
  }

  /** {@code ioQueues} queue pairs with the default serial and model numbers. */
  public static NvmeConfig of(int ioQueues) {
    return new NvmeConfig(ioQueues, DEFAULT_SERIAL, DEFAULT_MODEL);
  }

  /** MSI-X vectors: one per I/O queue pair and vector 0 for the admin queue. */
  public int vectors() {
    return ioQueues + 1;
  }

  private static void checkAscii(String what, String value, int max) {
    if (value == null
        || value.isEmpty()
        || value.length() > max
        || !value.chars().allMatch(c -> c >= 0x20 && c < 0x7f)
        || !StandardCharsets.US_ASCII.newEncoder().canEncode(value)) {
      throw new IllegalArgumentException(
          "cannot configure an NVMe controller: the %s must be 1-%d printable ASCII characters, not %s"
              .formatted(what, max, value == null ? "null" : "\"" + value + "\""));
    }
  }
}
