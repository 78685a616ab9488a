package dev.toykvm.devices.nvme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class NvmeConfigTest {
  @Test
  void vectorsAreTheIoQueuesAndTheAdminQueue() {
    assertEquals(5, NvmeConfig.of(4).vectors());
    assertEquals(17, NvmeConfig.of(16).vectors());
  }

  @Test
  void outOfRangeValuesAreRefused() {
    assertEquals(
        "cannot configure an NVMe controller: 0 I/O queues, not 1-16",
        assertThrows(IllegalArgumentException.class, () -> NvmeConfig.of(0)).getMessage());
    assertThrows(IllegalArgumentException.class, () -> NvmeConfig.of(17));
    assertThrows(IllegalArgumentException.class, () -> new NvmeConfig(1, "x".repeat(21), "m"));
    assertThrows(IllegalArgumentException.class, () -> new NvmeConfig(1, "s", "m".repeat(41)));
    assertThrows(IllegalArgumentException.class, () -> new NvmeConfig(1, "", "m"));
    assertThrows(IllegalArgumentException.class, () -> new NvmeConfig(1, "s\n", "m"));
    assertThrows(IllegalArgumentException.class, () -> new NvmeConfig(1, "s", "mé"));
    assertThrows(IllegalArgumentException.class, () -> new NvmeConfig(1, null, "m"));
  }
}
