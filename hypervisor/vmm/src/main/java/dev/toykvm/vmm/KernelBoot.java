package dev.toykvm.vmm;

import dev.toykvm.devices.DebugExitPort;
import dev.toykvm.vmm.boot.BootPlan;
import dev.toykvm.vmm.boot.E820Entry;
import java.io.OutputStream;
import java.util.List;

/**
 * A kernel to boot with {@code --kernel}, already planned by a loader.
 *
 * @param name the file name, for messages
 * @param plan where its pieces go and how it starts
 * @param memoryMap the machine's e820 map, the same the plan's information block carries
 * @param debugExit how port 0xf4 turns a write into an exit status
 * @param debugcon where the debug console (ports 0xe9 and 0x402) writes
 */
public record KernelBoot(
    String name,
    BootPlan plan,
    List<E820Entry> memoryMap,
    DebugExitPort.Mode debugExit,
    OutputStream debugcon) {
  public KernelBoot {
    memoryMap = List.copyOf(memoryMap);
  }
}
