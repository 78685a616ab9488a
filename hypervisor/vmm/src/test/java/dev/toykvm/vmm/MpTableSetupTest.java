package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.devices.DebugExitPort;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmCpuidEntry2;
import dev.toykvm.vmm.boot.BootPlan;
import dev.toykvm.vmm.boot.LoadSegment;
import dev.toykvm.vmm.boot.MpTable;
import dev.toykvm.vmm.boot.PcMemoryMap;
import dev.toykvm.vmm.pci.Bar;
import dev.toykvm.vmm.pci.IsaBridge;
import dev.toykvm.vmm.pci.PciBus;
import dev.toykvm.vmm.pci.PciDevice;
import dev.toykvm.vmm.pci.PciFirmwareSetup;
import dev.toykvm.vmm.pci.PciId;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The MP table a {@code --kernel} machine gets: where it is, how the BIOS data area points to it,
 * and that it says what the kernel side and the PCI setup really are (local APIC version read from
 * the vCPUs, CPUID leaf 1, the PIRQ routes).
 */
class MpTableSetupTest {
  static final long MEMORY = 16L << 20;

  private static KernelBoot hltKernel() {
    BootPlan plan =
        new BootPlan(
            List.of(new LoadSegment(0x100000, new byte[] {(byte) 0xf4}, 0x1000)),
            0x100000,
            0x9000,
            0x8000);
    return new KernelBoot(
        "k", plan, PcMemoryMap.of(MEMORY), DebugExitPort.Mode.RAW, new ByteArrayOutputStream());
  }

  private static MachineConfig config(boolean irqchip, int cpus) {
    return new MachineConfig(
            MEMORY,
            false,
            Optional.empty(),
            List.of(DeviceSpec.parse("pc-testdev,pio=0xe0,route=in-process")),
            DeviceSpec.Route.IN_PROCESS,
            MachineConfig.DEFAULT_DEVICE_TIMEOUT,
            irqchip)
        .withCpus(cpus);
  }

  private static int u8(MemorySegment ram, long at) {
    return ram.get(ValueLayout.JAVA_BYTE, at) & 0xff;
  }

  private static int u16(MemorySegment ram, long at) {
    return ram.get(ValueLayout.JAVA_SHORT_UNALIGNED, at) & 0xffff;
  }

  @Test
  void aFourCpuKernelMachineHasTheTableInTheEbdaWithTheRealApicVersion() throws Exception {
    try (Kvm kvm = Kvm.open();
        Machine m =
            Machine.boot(kvm, config(true, 4), hltKernel(), new ByteArrayOutputStream(), null)) {
      MemorySegment ram = m.ram();
      assertEquals(0x9fc0, u16(ram, 0x40e), "BDA: the EBDA's segment");
      assertEquals(639, u16(ram, 0x413), "BDA: base memory in KiB");
      byte[] fp = ram.asSlice(0x9fc00, 4).toArray(ValueLayout.JAVA_BYTE);
      assertEquals("_MP_", new String(fp, StandardCharsets.US_ASCII));
      long table = ram.get(ValueLayout.JAVA_INT_UNALIGNED, 0x9fc04) & 0xffff_ffffL;
      assertEquals(0x9fc10, table);
      int length = u16(ram, table + 4);
      assertTrue(table + length <= PcMemoryMap.LOW_RAM_END, "inside the EBDA's KiB");
      int sum = 0;
      for (long a = table; a < table + length; a++) {
        sum += u8(ram, a);
      }
      assertEquals(0, sum & 0xff, "checksum");
      // 4 processors, 2 buses, 1 I/O APIC, 15 ISA IRQs (no 2), no PCI pins, 2 local interrupts
      assertEquals(24, u16(ram, table + 34));
      KvmCpuidEntry2 leaf1 =
          kvm.getSupportedCpuid().stream().filter(e -> e.matches(1, 0)).findFirst().orElseThrow();
      for (int i = 0; i < 4; i++) {
        long e = table + 44 + 20L * i;
        assertEquals(i, u8(ram, e + 1), "APIC ID = vCPU id");
        assertEquals(0x14, u8(ram, e + 2), "the kernel side's local APIC version (KVM's)");
        assertTrue((u8(ram, e + 2) & 0xf0) == 0x10, "memtest86+ wants 0x1X");
        assertEquals(i == 0 ? 3 : 1, u8(ram, e + 3));
        assertEquals(leaf1.eax(), ram.get(ValueLayout.JAVA_INT_UNALIGNED, e + 4));
        assertEquals(
            leaf1.edx() | 1 << 28, ram.get(ValueLayout.JAVA_INT_UNALIGNED, e + 8), "HTT with 4");
      }
      long ioapic = table + 44 + 80 + 16;
      assertEquals(2, u8(ram, ioapic));
      assertEquals(0x11, u8(ram, ioapic + 2));
      assertEquals(0xfec00000L, ram.get(ValueLayout.JAVA_INT_UNALIGNED, ioapic + 4) & 0xffff_ffffL);
      long irq0 = ioapic + 8;
      assertEquals(3, u8(ram, irq0));
      assertEquals(0, u8(ram, irq0 + 5), "ISA IRQ 0 (the PIT)");
      assertEquals(0, u8(ram, irq0 + 7), "reaches I/O APIC pin 0: KVM's default routing");
    }
  }

  @Test
  void oneCpuGetsATableToo() throws Exception {
    try (Kvm kvm = Kvm.open();
        Machine m =
            Machine.boot(kvm, config(true, 1), hltKernel(), new ByteArrayOutputStream(), null)) {
      assertEquals(0x5f504d5f, m.ram().get(ValueLayout.JAVA_INT_UNALIGNED, 0x9fc00), "_MP_");
      assertEquals(1, u8(m.ram(), 0x9fc10 + 44 + 3) & 1, "the one processor, enabled");
    }
  }

  @Test
  void withoutLocalApicsThereIsNoTable() throws Exception {
    ScriptedKvm kvm = new ScriptedKvm();
    try (Machine m =
        Machine.boot(kvm, config(false, 1), hltKernel(), new ByteArrayOutputStream(), null)) {
      assertEquals(0, m.ram().get(ValueLayout.JAVA_INT_UNALIGNED, 0x9fc00));
      assertEquals(0, u16(m.ram(), 0x40e));
    }
  }

  @Test
  void pciPinsGoWhereThePirqRoutesSendThemAndTheirIrqsLeaveTheIsaList() {
    PciBus bus = new PciBus();
    IsaBridge isa = new IsaBridge();
    PciId id = new PciId(0x1b36, 0x0005, 0, 0x00ff00, PciId.QEMU_SUBSYSTEM_VENDOR, 0x1100);
    bus.add(1, 0, isa);
    bus.add(3, 0, new PciDevice("a", id, false, new Bar[0], 1)); // PIRQ (3 + 1 - 1) & 3 = D
    bus.add(4, 0, new PciDevice("b", id, true, new Bar[0], 1)); // PIRQA
    bus.add(4, 1, new PciDevice("c", id, true, new Bar[0], 1)); // the same pin: one entry
    bus.add(4, 2, new PciDevice("d", id, true, new Bar[0], 2)); // INTB#: PIRQB
    PciFirmwareSetup.configure(bus, isa);
    assertEquals(
        List.of(
            new MpTable.PciInterrupt(3, 1, 11),
            new MpTable.PciInterrupt(4, 1, 10),
            new MpTable.PciInterrupt(4, 2, 10)),
        MpTableSetup.pciInterrupts(bus, isa));
    MpTable.Contents c = MpTableSetup.contents(List.of(), List.of(), bus, isa);
    assertEquals(
        IntStream.of(0, 1, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15).boxed().toList(),
        c.isa().stream().map(MpTable.IsaInterrupt::irq).toList());
    c.isa().forEach(i -> assertEquals(i.irq(), i.ioapicPin()));
    isa.writeConfig(IsaBridge.PIRQ_ROUTE + 3, 1, IsaBridge.PIRQ_DISABLED);
    assertEquals(2, MpTableSetup.pciInterrupts(bus, isa).size(), "PIRQD off: no entry");
  }
}
