package dev.toykvm.devices;

import dev.toykvm.devices.nvme.NvmeConfig;
import dev.toykvm.devices.nvme.NvmeController;
import dev.toykvm.devices.nvme.NvmeDisk;
import dev.toykvm.devices.pci.PciInterrupts;
import dev.toykvm.devices.pci.PciModel;
import dev.toykvm.devices.pci.PciState;
import java.io.IOException;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the NVMe controller ({@link NvmeController} over an {@link NvmeDisk}) behind {@link
 * PciModel}: the one place a device process and the VMM's {@code route=in-process} make one.
 */
final class NvmeModels {
  private static final Logger log = LoggerFactory.getLogger(NvmeModels.class);

  private NvmeModels() {}

  /**
   * @throws IOException "cannot open NVMe disk FILE: why" if the disk cannot be opened or created
   */
  static PciModel open(
      Path disk, OptionalLong diskSize, int queues, GuestMemory dma, PciInterrupts irq)
      throws IOException {
    NvmeDisk d = NvmeDisk.open(disk, diskSize);
    NvmeController c;
    try {
      c = new NvmeController(NvmeConfig.of(queues), d, dma, irq);
    } catch (RuntimeException e) {
      d.close();
      throw e;
    }
    return new PciModel() {
      @Override
      public long read(long offset, int size) {
        return c.read(offset, size);
      }

      @Override
      public void write(long offset, int size, long value) {
        c.write(offset, size, value);
      }

      @Override
      public void pciState(PciState state) {
        c.pciState(state);
      }

      @Override
      public void close() {
        try {
          c.close();
        } catch (IOException e) {
          log.warn("nvme: cannot close the disk {}: {}", disk, e.getMessage());
        }
      }
    };
  }
}
