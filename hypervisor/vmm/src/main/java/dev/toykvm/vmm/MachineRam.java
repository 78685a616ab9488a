package dev.toykvm.vmm;

import static dev.toykvm.vmm.MachineLayout.HIGH_RAM_BASE;
import static dev.toykvm.vmm.MachineLayout.LOW_RAM_SIZE;
import static dev.toykvm.vmm.MachineLayout.RAM_ABOVE_4G;
import static dev.toykvm.vmm.MachineLayout.SLOT_HIGH_RAM;
import static dev.toykvm.vmm.MachineLayout.SLOT_LOW_RAM;
import static dev.toykvm.vmm.MachineLayout.SLOT_RAM_ABOVE_4G;

import dev.toykvm.devices.GuestRam;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.vmm.boot.RamSplit;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The machine's RAM: where it is in guest-physical space ({@link RamSplit}: up to 3 GiB below the
 * PCI hole, the rest from 4 GiB) and in the guest memory file, where file offset = guest-physical
 * address for every byte of RAM. The file is as large as the top of RAM (4 GiB + the part above 4
 * GiB when there is one); its 3-4 GiB range and the PC hole at 0xa0000-0xfffff hold no RAM (only
 * the chipset's shadow RAM uses the latter), and since nothing writes them they take no room: the
 * file is sparse, and only what the guest touches is ever allocated.
 */
final class MachineRam {
  private MachineRam() {}

  /**
   * The guest memory file for {@code memory} bytes of RAM.
   *
   * @throws IOException if it cannot be created ({@link GuestMemoryFile#create})
   */
  static GuestMemoryFile create(long memory) throws IOException {
    return GuestMemoryFile.create("ram", RamSplit.of(memory).top());
  }

  /**
   * Maps the RAM as up to three slots around the PC hole at 0xa0000-0xfffff and the PCI hole at 3-4
   * GiB.
   */
  static void map(VmFd vm, GuestMemoryFile ram, long memory) {
    for (Slot s : slots(memory)) {
      MemorySegment piece = ram.segment().asSlice(s.gpa(), s.size());
      vm.setUserMemoryRegion(new KvmUserspaceMemoryRegion(s.id(), 0, s.gpa(), s.size(), piece));
    }
  }

  /** One RAM slot: its id, guest-physical address and size (file offset = address). */
  record Slot(int id, long gpa, long size) {}

  /** The RAM slots of a machine with {@code memory} bytes of RAM, by address. */
  static List<Slot> slots(long memory) {
    RamSplit split = RamSplit.of(memory);
    List<Slot> slots = new ArrayList<>();
    slots.add(new Slot(SLOT_LOW_RAM, 0, LOW_RAM_SIZE));
    slots.add(new Slot(SLOT_HIGH_RAM, HIGH_RAM_BASE, split.below4g() - HIGH_RAM_BASE));
    if (split.above4g() > 0) {
      slots.add(new Slot(SLOT_RAM_ABOVE_4G, RAM_ABOVE_4G, split.above4g()));
    }
    return List.copyOf(slots);
  }

  /**
   * Where RAM is in the guest memory file, as a device doing DMA sees it: the slots of {@link
   * #map}, without the hole at 0xa0000-0xfffff (shadow RAM there is the firmware's, not a device's
   * to reach) or the PCI hole.
   */
  static List<GuestRam.Range> dmaLayout(long memory) {
    return slots(memory).stream().map(s -> new GuestRam.Range(s.gpa(), s.size(), s.gpa())).toList();
  }

  /** Reserves the RAM's ranges, so that no device is placed over them. */
  static void reserve(DeviceManager devices, long memory) {
    for (Slot s : slots(memory)) {
      String what =
          switch (s.id()) {
            case SLOT_LOW_RAM -> "low RAM";
            case SLOT_RAM_ABOVE_4G -> "RAM above 4 GiB";
            default -> "RAM";
          };
      devices.reserve(what, false, s.gpa(), s.size());
    }
  }
}
