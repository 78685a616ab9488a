package dev.toykvm.vmm;

import dev.toykvm.kvm.KvmCpuidEntry2;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.vmm.boot.MpTable;
import dev.toykvm.vmm.boot.PcMemoryMap;
import dev.toykvm.vmm.pci.IsaBridge;
import dev.toykvm.vmm.pci.PciBus;
import dev.toykvm.vmm.pci.PciDevice;
import dev.toykvm.vmm.pci.PciFunction;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The firmware's MP table on a {@code --kernel} machine with the irqchip, as kvmtool writes one: a
 * kernel without ACPI finds the other vCPUs and the I/O APIC's inputs there. The floating pointer
 * and the table go to the first KiB of the EBDA ({@link PcMemoryMap#EBDA}, which the e820 map
 * reserves and no loader writes: the loaders' pieces are checked to lie in e820 RAM), and the BIOS
 * data area points there: its EBDA segment at 0x40e and its base memory size in KiB (639) at 0x413.
 * A kernel's search of "the last KiB of base memory" and of the EBDA both find it.
 *
 * <p>What the table describes is toykvm's wiring ({@code VmFd.irqLine}: KVM's default routing, GSI
 * n to I/O APIC pin n): ISA IRQ n reaches pin n, so the PIT's IRQ 0 is on pin 0 (no override to pin
 * 2 as on QEMU's routing), and IRQ 2 (the 8259s' cascade, which no device raises) is not listed.
 * PCI INTx# reaches the pin of the ISA IRQ its PIIX3 PIRQ route names ({@code IntxRoute}, level,
 * active low: the PIRQ lines are shared open-drain lines); those IRQs get no ISA entry, as in
 * SeaBIOS's table, so a kernel sees one trigger mode per pin. The 8259's INTR reaches each local
 * APIC's LINT0 (the virtual wire), never an I/O APIC pin, so there is no ExtINT I/O interrupt
 * entry.
 */
final class MpTableSetup {
  private MpTableSetup() {}

  /** The BDA's word holding the EBDA's segment. */
  static final long BDA_EBDA_SEGMENT = 0x40e;

  /** The BDA's word holding the base memory size in KiB (below the EBDA). */
  static final long BDA_BASE_MEMORY_KIB = 0x413;

  /** Where the table goes: the EBDA's first KiB. */
  static final long BASE = PcMemoryMap.EBDA;

  /** The room there: the EBDA up to the VGA window. */
  static final int ROOM = (int) (PcMemoryMap.LOW_RAM_END - PcMemoryMap.EBDA);

  /** KVM's I/O APIC (and toykvm's): version register bits 7:0. */
  static final int IOAPIC_VERSION = 0x11;

  /** The I/O APIC's ID register after reset (KVM's and toykvm's): 0. */
  static final int IOAPIC_ID = 0;

  /** The local APIC version register's offset in the {@code KVM_GET_LAPIC} page. */
  static final int LAPIC_VERSION = 0x30;

  /**
   * Writes the table for these vCPUs and the PCI functions on {@code bus} into {@code ram}.
   *
   * @param cpuid each vCPU's CPUID table, in vCPU order (leaf 1 gives signature and features)
   * @return what the table says
   * @throws IllegalArgumentException if it does not fit in the EBDA's KiB
   */
  static MpTable.Contents write(
      MemorySegment ram,
      List<VcpuFd> vcpus,
      List<List<KvmCpuidEntry2>> cpuid,
      PciBus bus,
      IsaBridge isa) {
    MpTable.Contents contents = contents(vcpus, cpuid, bus, isa);
    byte[] table = MpTable.build(BASE, ROOM, contents);
    MemorySegment.copy(table, 0, ram, ValueLayout.JAVA_BYTE, BASE, table.length);
    ram.set(ValueLayout.JAVA_SHORT_UNALIGNED, BDA_EBDA_SEGMENT, (short) (BASE >> 4));
    ram.set(ValueLayout.JAVA_SHORT_UNALIGNED, BDA_BASE_MEMORY_KIB, (short) (BASE >> 10));
    return contents;
  }

  /** What the table says about this machine. */
  static MpTable.Contents contents(
      List<VcpuFd> vcpus, List<List<KvmCpuidEntry2>> cpuid, PciBus bus, IsaBridge isa) {
    List<MpTable.Processor> processors = new ArrayList<>();
    for (int i = 0; i < vcpus.size(); i++) {
      VcpuFd v = vcpus.get(i);
      int version =
          ByteBuffer.wrap(v.getLapic()).order(ByteOrder.LITTLE_ENDIAN).getInt(LAPIC_VERSION) & 0xff;
      KvmCpuidEntry2 leaf1 =
          cpuid.get(i).stream()
              .filter(e -> e.matches(1, 0))
              .findFirst()
              .orElse(new KvmCpuidEntry2(1, 0, 0, 0, 0, 0, 0));
      processors.add(new MpTable.Processor(v.id(), version, i == 0, leaf1.eax(), leaf1.edx()));
    }
    List<MpTable.PciInterrupt> pci = pciInterrupts(bus, isa);
    TreeSet<Integer> pciIrqs = new TreeSet<>();
    pci.forEach(p -> pciIrqs.add(p.ioapicPin()));
    List<MpTable.IsaInterrupt> isaIrqs = new ArrayList<>();
    for (int irq = 0; irq < 16; irq++) {
      if (irq != 2 && !pciIrqs.contains(irq)) {
        isaIrqs.add(new MpTable.IsaInterrupt(irq, irq));
      }
    }
    return new MpTable.Contents(
        processors,
        new MpTable.IoApic(IOAPIC_ID, IOAPIC_VERSION, PcInterrupts.IOAPIC_BASE),
        isaIrqs,
        pci);
  }

  /**
   * One entry per device and INTx# pin that some function of bus 0 uses and whose PIRQ route is
   * enabled: the pin reaches the I/O APIC input of the route's ISA IRQ.
   */
  static List<MpTable.PciInterrupt> pciInterrupts(PciBus bus, IsaBridge isa) {
    List<MpTable.PciInterrupt> out = new ArrayList<>();
    for (int device = 0; device < PciBus.DEVICES; device++) {
      boolean[] seen = new boolean[5];
      for (int fn = 0; fn < PciBus.FUNCTIONS; fn++) {
        PciFunction f = bus.function(device << 3 | fn);
        if (f == null) {
          continue;
        }
        int pin = f.readConfig(PciDevice.INTERRUPT_PIN, 1);
        if (pin < 1 || pin > 4 || seen[pin]) {
          continue;
        }
        seen[pin] = true;
        int slot = device;
        isa.pirqIrq(IsaBridge.pirqOf(device, pin))
            .ifPresent(irq -> out.add(new MpTable.PciInterrupt(slot, pin, irq)));
      }
    }
    return out;
  }
}
