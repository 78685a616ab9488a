package dev.toykvm.vmm.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.toykvm.devices.pci.PciState;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The NVMe function's configuration space, as QEMU's nvme device shows it, and its state sink. */
class NvmeFunctionTest {
  private final List<PciState> sent = new ArrayList<>();
  private final List<String> bars = new ArrayList<>();
  private final NvmeFunction f = new NvmeFunction("nvme", 5, sent::add);

  private static BarListener recorder(String who, List<String> into) {
    return new BarListener() {
      @Override
      public void mapped(BarMapping m) {
        into.add(who + " map " + m);
      }

      @Override
      public void unmapped(BarMapping m) {
        into.add(who + " unmap " + m);
      }
    };
  }

  @Test
  void theHeaderIsQemusNvme() {
    assertEquals(0x0010_1b36, f.readConfig(PciDevice.VENDOR, 4));
    assertEquals(0x0108_0202, f.readConfig(PciDevice.REVISION, 4), "class 010802, revision 2");
    assertEquals(0x1100_1af4, f.readConfig(PciDevice.SUBSYSTEM_VENDOR, 4));
    assertEquals(1, f.readConfig(PciDevice.INTERRUPT_PIN, 1), "INTA#");
    assertEquals(0, f.readConfig(PciDevice.HEADER_TYPE, 1));
    assertEquals(0x10, f.readConfig(PciDevice.STATUS, 2) & 0x10, "a capabilities list");
  }

  @Test
  void bar0Is64Bit16KiBAndBar4Is32Bit8KiB() {
    assertEquals(0x4, f.readConfig(0x10, 4), "64-bit, non-prefetchable memory");
    f.writeConfig(0x10, 4, -1);
    f.writeConfig(0x14, 4, -1);
    assertEquals(0xffff_c004, f.readConfig(0x10, 4), "16 KiB");
    assertEquals(0xffff_ffff, f.readConfig(0x14, 4));
    f.writeConfig(0x20, 4, -1);
    assertEquals(0xffff_e000, f.readConfig(0x20, 4), "8 KiB, 32-bit");
    for (int bar : new int[] {0x18, 0x1c, 0x24}) {
      f.writeConfig(bar, 4, -1);
      assertEquals(0, f.readConfig(bar, 4), "unused");
    }
  }

  @Test
  void msixHasOneVectorPerQueueAndTheTableAndPbaInBar4() {
    int cap = f.readConfig(PciDevice.CAPABILITIES, 1);
    assertEquals(cap, f.msixCapability());
    assertEquals(MsixCapability.ID, f.readConfig(cap, 1));
    assertEquals(0, f.readConfig(cap + 1, 1), "the only capability");
    assertEquals(4, f.readConfig(cap + 2, 2) & 0x7ff, "5 vectors: table size - 1");
    assertEquals(0x0000_0004, f.readConfig(cap + 4, 4), "table at 0 in BAR4");
    assertEquals(0x0000_1004, f.readConfig(cap + 8, 4), "PBA at 0x1000 in BAR4");
  }

  @Test
  void theStateGoesOutOnlyWhenItChanges() {
    f.writeConfig(PciDevice.COMMAND, 2, PciDevice.COMMAND_MEMORY);
    assertEquals(List.of(), sent, "memory enable is not the model's business");
    f.writeConfig(PciDevice.COMMAND, 2, PciDevice.COMMAND_MEMORY | PciDevice.COMMAND_BUS_MASTER);
    assertEquals(List.of(new PciState(true, false, false, false)), sent);
    f.writeConfig(PciDevice.CACHE_LINE_SIZE, 1, 0x10);
    assertEquals(1, sent.size(), "nothing changed");
    int control = f.msixCapability() + 2;
    f.writeConfig(control + 1, 1, 0xc0); // MSI-X enable and function mask, by byte
    f.writeConfig(control + 1, 1, 0x80); // unmask
    f.writeConfig(PciDevice.COMMAND + 1, 1, 0x04); // INTx disable
    assertEquals(
        List.of(
            new PciState(true, false, false, false),
            new PciState(true, false, true, true),
            new PciState(true, false, true, false),
            new PciState(true, true, true, false)),
        sent);
    assertEquals(sent.getLast(), f.state());
  }

  @Test
  void listenersRunAfterEveryWriteOnceTheStateIsSent() {
    List<Integer> seen = new ArrayList<>();
    f.afterConfigWrite(() -> seen.add(sent.size()));
    f.writeConfig(PciDevice.CACHE_LINE_SIZE, 1, 0x10);
    f.writeConfig(PciDevice.COMMAND, 2, PciDevice.COMMAND_BUS_MASTER);
    assertEquals(List.of(0, 1), seen);
  }

  @Test
  void bar0AndBar4GoToTheirOwnListeners() {
    f.listen(NvmeFunction.routes(recorder("model", bars), recorder("msix", bars)));
    f.writeConfig(0x10, 4, 0xe000_0000);
    f.writeConfig(0x14, 4, 0);
    f.writeConfig(0x20, 4, 0xe000_4000);
    f.writeConfig(PciDevice.COMMAND, 2, PciDevice.COMMAND_MEMORY);
    assertEquals(
        List.of("model map BAR0 mem 0xe0000000+0x4000", "msix map BAR4 mem 0xe0004000+0x2000"),
        bars);
    assertNull(f.decoded(1));
  }
}
