package dev.toykvm.devices;

import dev.toykvm.devices.pci.PciInterrupts;
import dev.toykvm.devices.pci.PciModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * HOOK for the lead (engineer A's model): makes {@code dev.toykvm.devices.nvme.NvmeController}
 * ({@code new NvmeController(NvmeConfig.of(queues), NvmeDisk.open(disk, diskSize), dma, irq)})
 * behind {@link PciModel}. Until A's branch is merged this build has no controller, and every NVMe
 * device fails to start with a clear message.
 */
final class NvmeModels {
  private NvmeModels() {}

  static PciModel open(
      Path disk, OptionalLong diskSize, int queues, GuestMemory dma, PciInterrupts irq)
      throws IOException {
    throw new IOException(
        "cannot start the NVMe controller for "
            + disk
            + ": its model (dev.toykvm.devices.nvme.NvmeController) is not in this build");
  }
}
