package dev.toykvm.vmm.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.toykvm.devices.BusDevice;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The host bridge's PAM registers drive memory slots and the window's exits. */
class PamTest {
  private final Arena arena = Arena.ofShared();
  private final MemorySegment ram = arena.allocate(0x10_0000, 4096);
  private final MemorySegment rom = arena.allocate(0x2_0000, 4096); // the firmware's last 128 KiB
  private final FakeVm vm = new FakeVm();
  private final HostBridge bridge;
  private final PciConfigIo io;
  private final Pam pam;

  PamTest() {
    ram.fill((byte) 0x11);
    rom.fill((byte) 0xee);
    pam = new Pam(vm.fd, 16, ram, rom, 0xe_0000);
    bridge = new HostBridge(pam);
    PciBus bus = new PciBus();
    bus.add(0, 0, bridge);
    io = new PciConfigIo(bus, () -> {});
  }

  @AfterEach
  void close() {
    arena.close();
  }

  /**
   * The slot at {@code gpa} maps {@code backing} at the same place (RAM: gpa; ROM: from 0xe0000).
   */
  private void assertSlot(long gpa, boolean readOnly, MemorySegment backing) {
    KvmUserspaceMemoryRegion r = vm.at(gpa);
    String where = "slot at 0x" + Long.toHexString(gpa);
    assertEquals(readOnly ? KvmConstants.KVM_MEM_READONLY : 0, r.flags(), where);
    long offset = backing == ram ? r.guestPhysAddr() : r.guestPhysAddr() - 0xe_0000;
    assertEquals(backing.address() + offset, r.userspaceAddr().address(), where);
  }

  @Test
  void afterResetTheRomIsBelow1MibAndTheOptionRomSpaceIsEmpty() {
    assertSlot(0xf_0000, true, rom);
    assertSlot(0xe_4000, true, rom);
    assertNull(vm.at(0xc_0000));
    assertNull(vm.at(0xd_c000));
    assertEquals(5, vm.slots.size(), "0xe0000-0xeffff in four pieces, 0xf0000 in one");
    BusDevice w = pam.window();
    assertEquals(0xffff_ffffL, w.read(0, 4), "0xc0000: nothing");
    assertEquals(0xeeee, w.read(0x3_0000, 2), "0xf0000: the ROM");
  }

  @Test
  void seabiosShadowingAsItDoesIt() {
    // SeaBIOS reads the dwords at 0x58 and 0x5c, sets PAM1-6 to 0x33 and PAM0 to 0x30, writes them.
    io.write(0, 4, 0x8000_0058L);
    int low = (int) io.read(4, 4);
    io.write(4, 4, low & 0xff | 0x3333_3000); // 0x59 PAM0, 0x5a-0x5b PAM1-2
    io.write(0, 4, 0x8000_005cL);
    io.write(4, 4, 0x3333_3333);
    assertEquals(0x30, bridge.readConfig(0x59, 1));
    assertEquals(0x3333, bridge.readConfig(0x5a, 2));
    assertEquals(0x3333_3333, bridge.readConfig(0x5c, 4));
    for (long a = 0xc_0000; a < 0x10_0000; a += 0x4000) {
      assertSlot(a, false, ram);
    }
    assertEquals(13, vm.slots.size());
    // ... copies itself, then makes its code read-only: 0x11.
    bridge.writeConfig(0x59, 1, 0x10);
    assertSlot(0xf_0000, true, ram);
    pam.window().write(0x3_0000, 1, 0x99);
    assertEquals(0x11, ram.get(ValueLayout.JAVA_BYTE, 0xf_0000), "RE only: the write is dropped");
    assertEquals(1, pam.droppedWrites());
  }

  @Test
  void writeEnableAloneReadsTheRomAndWritesTheRam() {
    bridge.writeConfig(0x5f, 1, 0x20); // PAM6 high: 0xec000-0xeffff, WE only
    assertSlot(0xe_c000, true, rom);
    BusDevice w = pam.window();
    w.write(0x2_c000, 2, 0xabcd);
    assertEquals((short) 0xabcd, ram.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0xe_c000));
    assertEquals(0xeeee, w.read(0x2_c000, 2), "reads still come from the ROM");
    bridge.writeConfig(0x5f, 1, 0x10);
    assertSlot(0xe_c000, true, ram);
    bridge.writeConfig(0x5a, 1, 0x02); // PAM1 low: 0xc0000, WE only, no ROM there
    assertNull(vm.at(0xc_0000));
    w.write(0, 1, 0x42);
    assertEquals(0x42, ram.get(ValueLayout.JAVA_BYTE, 0xc_0000));
    assertEquals(0xff, w.read(0, 1));
    bridge.writeConfig(0x5a, 1, 0x00);
    assertNull(vm.at(0xc_0000));
  }

  @Test
  void smramStaysClosedAndOtherRegistersAreStorage() {
    assertEquals(0x02, bridge.readConfig(HostBridge.SMRAM, 1));
    bridge.writeConfig(HostBridge.SMRAM, 1, 0x4a);
    assertEquals(0x02, bridge.readConfig(HostBridge.SMRAM, 1));
    bridge.writeConfig(0x50, 4, 0x1234_5678);
    assertEquals(0x1234_5678, bridge.readConfig(0x50, 4));
    assertEquals(0x1237_8086, bridge.readConfig(0, 4));
    assertEquals(0x0600_0002, bridge.readConfig(8, 4));
    assertEquals(0x1100_1af4, bridge.readConfig(0x2c, 4));
  }

  @Test
  void withoutRomTheBiosAreaIsEmptyUntilShadowed() {
    FakeVm other = new FakeVm();
    Pam bare = new Pam(other.fd, 16, ram, null, 0);
    assertEquals(0, other.slots.size());
    int[] regs = {0x30, 0, 0, 0, 0, 0, 0};
    bare.update(regs);
    assertEquals(1, other.slots.size());
    assertEquals(0xf_0000, other.at(0xf_0000).guestPhysAddr());
    assertEquals(0, other.at(0xf_0000).flags());
  }

  @Test
  void theIsaBridgeHasPiix3sIdentityAndPirqRoutes() {
    IsaBridge isa = new IsaBridge();
    assertEquals(0x7000_8086, isa.readConfig(0, 4));
    assertEquals(0x0601_0000, isa.readConfig(8, 4));
    assertEquals(0x80, isa.readConfig(0x0e, 1), "multi-function");
    assertEquals(0x8080_8080, isa.readConfig(IsaBridge.PIRQ_ROUTE, 4));
    isa.writeConfig(IsaBridge.PIRQ_ROUTE, 4, 0x0b0b_0a0a);
    assertEquals(0x0b0b_0a0a, isa.readConfig(IsaBridge.PIRQ_ROUTE, 4));
  }
}
