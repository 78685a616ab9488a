package dev.toykvm.devices;

import dev.toykvm.devices.pci.PciInterrupts;
import dev.toykvm.devices.pci.PciIrqfds;
import dev.toykvm.devices.pci.PciModel;
import dev.toykvm.devices.pci.PciStatePipe;
import dev.toykvm.ioregionfd.IoregionServer;
import dev.toykvm.posix.Eventfd;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The NVMe controller in a device process ({@code DeviceMain nvme ...}): maps guest RAM for DMA,
 * opens the disk, makes the model with its MSI-X and INTx irqfds, and serves BAR0 on fds 0 and 1
 * while it polls the PCI state pipe beside the commands ({@link DeviceEvents}).
 *
 * <pre>
 * nvme --disk FILE [--disk-size BYTES] --queues N --guest-ram FD:GPA:SIZE:OFFSET[+GPA:SIZE:OFFSET...]
 *      --pci-state FD --irqfd GSI:FD (one per MSI-X vector, in vector order: N + 1)
 *      [--intx GSI:FD:RESAMPLEFD]
 * </pre>
 *
 * <p>All fds are inherited from the launcher. A disk that cannot be opened or created, or guest RAM
 * that cannot be mapped, ends the process before it serves, with one line on stderr.
 */
public final class NvmeHost {
  /** BAR0: controller registers at 0-0xfff, doorbells from 0x1000 (CAP.DSTRD = 0). */
  public static final long BAR0_SIZE = 0x4000;

  /** I/O queue pairs allowed ({@code queues=}). */
  public static final int MIN_QUEUES = 1;

  public static final int MAX_QUEUES = 16;

  private NvmeHost() {}

  /** The command line of an nvme device process, parsed but not checked against the system. */
  record Options(
      Path disk,
      OptionalLong diskSize,
      int queues,
      String guestRam,
      int pciStateFd,
      List<String> irqfds,
      String intx) {}

  /**
   * The model over its disk ({@code NvmeController} over an {@code NvmeDisk}): what the device
   * process and the VMM's {@code route=in-process} both serve.
   *
   * @throws IOException if the disk cannot be opened or created as asked
   */
  public static PciModel open(
      Path disk, OptionalLong diskSize, int queues, GuestMemory dma, PciInterrupts irq)
      throws IOException {
    return NvmeModels.open(disk, diskSize, queues, dma, irq);
  }

  /**
   * Sets the device up and serves it.
   *
   * @return the process's exit status ({@link DeviceMain})
   */
  static int serve(Options o, PrintStream log) {
    String name = "nvme";
    if (o.queues() < MIN_QUEUES || o.queues() > MAX_QUEUES) {
      log.println(name + ": --queues " + o.queues() + " is not " + MIN_QUEUES + "-" + MAX_QUEUES);
      return 2;
    }
    List<IrqfdLines.Irqfd> fds = new ArrayList<>();
    List<Integer> vectorGsis = new ArrayList<>();
    int intxGsi = -1;
    GuestRam ram;
    try {
      for (String spec : o.irqfds()) {
        IrqfdLines.Irqfd i = DeviceMain.parseIrqfd(spec);
        if (i.level()) {
          throw new IllegalArgumentException("--irqfd " + spec + ": an MSI-X vector is an edge");
        }
        fds.add(i);
        vectorGsis.add(i.gsi());
      }
      if (vectorGsis.size() != o.queues() + 1) {
        throw new IllegalArgumentException(
            vectorGsis.size()
                + " --irqfd given, not one per MSI-X vector ("
                + (o.queues() + 1)
                + ")");
      }
      if (o.intx() != null) {
        IrqfdLines.Irqfd i = DeviceMain.parseIrqfd(o.intx());
        if (!i.level()) {
          throw new IllegalArgumentException("--intx " + o.intx() + " needs GSI:FD:RESAMPLEFD");
        }
        fds.add(i);
        intxGsi = i.gsi();
      }
      for (IrqfdLines.Irqfd i : fds) {
        if (!Eventfd.isEventfd(i.fd()) || (i.level() && !Eventfd.isEventfd(i.resampleFd()))) {
          throw new IllegalArgumentException("cannot use irqfd " + i + ": not open eventfds");
        }
      }
      ram = GuestRam.fromArgument(o.guestRam());
    } catch (IllegalArgumentException e) {
      log.println(name + ": " + e.getMessage());
      return 2;
    } catch (IOException e) {
      log.println(name + ": " + e.getMessage());
      return 1;
    }
    IrqfdLines lines = new IrqfdLines(fds);
    try (ram;
        PciModel model =
            open(
                o.disk(),
                o.diskSize(),
                o.queues(),
                ram,
                new PciIrqfds(lines, vectorGsis, intxGsi))) {
      PciStatePipe state = new PciStatePipe(o.pciStateFd(), model::pciState);
      DeviceEvents events = new DeviceEvents(name, lines, null, -1, System::nanoTime, log, state);
      IoregionServer server =
          new IoregionServer(name, BusDeviceHandler.of(model), 0, 1, log, events);
      log.println(name + ": " + DeviceMain.READY);
      log.flush();
      int status = server.serve();
      if (status == IoregionServer.EXIT_EOF) {
        log.println(name + ": EOF on the command fd after " + server.accesses() + " accesses");
      }
      return status;
    } catch (IOException e) {
      log.println(name + ": " + e.getMessage());
      return 1;
    }
  }
}
