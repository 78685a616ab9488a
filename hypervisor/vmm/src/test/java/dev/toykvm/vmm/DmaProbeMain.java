package dev.toykvm.vmm;

import dev.toykvm.devices.GuestRam;
import dev.toykvm.posix.Processes;
import java.nio.charset.StandardCharsets;

/**
 * A device process that does one DMA, for {@link DeviceDmaTest}: maps guest RAM as a device
 * launcher passes it ({@code --guest-ram FD:GPA:SIZE:OFFSET[+...]}), writes TEXT at ADDRESS, and
 * exits 0 if the write was done, 3 if it was refused (not wholly RAM), 1 if RAM cannot be mapped.
 *
 * <pre>
 * DmaProbeMain --guest-ram FD:LAYOUT ADDRESS TEXT
 * </pre>
 */
public final class DmaProbeMain {
  private DmaProbeMain() {}

  public static void main(String[] args) throws Exception {
    Processes.setParentDeathSignal(Processes.SIGKILL);
    if (args.length != 4 || !args[0].equals("--guest-ram")) {
      System.err.println("usage: DmaProbeMain --guest-ram FD:LAYOUT ADDRESS TEXT");
      System.exit(2);
    }
    long address = Long.parseUnsignedLong(args[2].replaceFirst("^0x", ""), 16);
    try (GuestRam ram = GuestRam.fromArgument(args[1])) {
      boolean done = ram.write(address, args[3].getBytes(StandardCharsets.US_ASCII));
      System.err.println(done ? "dma: written" : "dma: refused");
      System.exit(done ? 0 : 3);
    } catch (java.io.IOException e) {
      System.err.println("dma: " + e.getMessage());
      System.exit(1);
    }
  }
}
