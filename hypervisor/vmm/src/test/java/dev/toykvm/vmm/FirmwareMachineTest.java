package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.devices.DebugExitPort;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VcpuExit;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The machine of a {@code --bios} boot, driven by a script of exits (no CPU). */
class FirmwareMachineTest {
  private static final long MEMORY = 32L << 20;

  /** An image whose every 64 KiB block starts with its number, and with a reset vector. */
  private static Firmware firmware(int size) {
    byte[] b = new byte[size];
    for (int i = 0; i < size; i += 0x1_0000) {
      b[i] = (byte) (i >> 16);
    }
    b[size - 16] = (byte) 0xea;
    return new Firmware("fw", b);
  }

  private static Machine machine(ScriptedKvm kvm, int size, ByteArrayOutputStream debugcon)
      throws Exception {
    return Machine.firmware(
        kvm,
        new MachineConfig(MEMORY, false, Optional.empty(), List.of(), DeviceSpec.Route.IN_PROCESS),
        new FirmwareBoot(firmware(size), DebugExitPort.Mode.QEMU, debugcon),
        new ByteArrayOutputStream(),
        null);
  }

  @ParameterizedTest
  @CsvSource({
    "0x10000, 0xffff0000, 0xf0000, 0x10000",
    "0x20000, 0xfffe0000, 0xe0000, 0x20000",
    "0x40000, 0xfffc0000, 0xe0000, 0x20000"
  })
  void theImageIsAtTheTopOf4GibAndItsLast128KibBelow1Mib(
      int size, long high, long alias, long aliasSize) throws Exception {
    ScriptedKvm kvm = new ScriptedKvm();
    try (Machine m = machine(kvm, size, new ByteArrayOutputStream())) {
      List<KvmUserspaceMemoryRegion> r = kvm.regions;
      // The top copy, RAM, then the alias as the chipset's PAM pieces (16 KiB below 0xf0000).
      int pieces = aliasSize == 0x10000 ? 1 : 5;
      assertEquals(3 + pieces, r.size());
      assertRegion(r.get(0), KvmConstants.KVM_MEM_READONLY, high, size);
      assertRegion(r.get(1), 0, 0, 0xa_0000);
      assertRegion(r.get(2), 0, 0x10_0000, MEMORY - 0x10_0000);
      long covered = 0;
      for (KvmUserspaceMemoryRegion piece : r.subList(3, r.size())) {
        assertEquals(KvmConstants.KVM_MEM_READONLY, piece.flags());
        assertTrue(piece.guestPhysAddr() >= alias && piece.guestPhysAddr() < 0x10_0000);
        // The alias is the image's last bytes, in the same memory as the top copy.
        assertEquals(
            r.get(0).userspaceAddr().address() + size - aliasSize + piece.guestPhysAddr() - alias,
            piece.userspaceAddr().address());
        covered += piece.memorySize();
      }
      assertEquals(aliasSize, covered);
      assertEquals(
          (byte) ((size - aliasSize) >> 16),
          r.get(3).userspaceAddr().get(ValueLayout.JAVA_BYTE, 0));
      assertEquals((byte) 0xea, r.get(0).userspaceAddr().get(ValueLayout.JAVA_BYTE, size - 16));
    }
  }

  private static void assertRegion(KvmUserspaceMemoryRegion r, int flags, long gpa, long size) {
    assertEquals(flags, r.flags());
    assertEquals(gpa, r.guestPhysAddr());
    assertEquals(size, r.memorySize());
  }

  @Test
  void writesToTheRomAreDroppedAsOnAPcNotUnclaimed() throws Exception {
    ScriptedKvm kvm = new ScriptedKvm();
    kvm.then(new VcpuExit.MmioWrite(0xffff_fff0L, 4, 0x1234));
    kvm.then(new VcpuExit.MmioWrite(0xe_0000L, 1, 0x56));
    kvm.then(new VcpuExit.MmioWrite(0xd_0000L, 1, 0x78)); // below the alias: the PAM's, empty
    kvm.then(new VcpuExit.IoOut(0xf4, 1, 0));
    try (Machine m = machine(kvm, 0x40000, new ByteArrayOutputStream())) {
      assertEquals(new VmOutcome.GuestExited(1), m.run());
      // 0xc0000-0xfffff is the chipset's (PAM registers all 0: ROM, or nothing): both dropped.
      assertEquals(0, m.exits().unclaimedMmioAccesses());
      assertEquals(2, m.chipset().pam().droppedWrites());
    }
  }

  @Test
  void theDebugConsoleIsAt0x402AndAt0xe9() throws Exception {
    ScriptedKvm kvm = new ScriptedKvm();
    kvm.then(new VcpuExit.IoOut(0x402, 1, 'o'));
    kvm.then(new VcpuExit.IoOut(0xe9, 1, 'k'));
    kvm.then(new VcpuExit.IoIn(0xe9, 1, v -> {}));
    kvm.then(v -> new VcpuExit.IoOut(0xf4, 1, v == 0xe9 ? 0 : 1));
    ByteArrayOutputStream debugcon = new ByteArrayOutputStream();
    try (Machine m = machine(kvm, 0x20000, debugcon)) {
      assertEquals(new VmOutcome.GuestExited(1), m.run());
      assertEquals(0, m.exits().unclaimedPioAccesses());
    }
    assertEquals("ok", debugcon.toString(StandardCharsets.US_ASCII));
  }

  @Test
  void aDeviceAt0xe9TakesItFromTheDebugConsole() throws Exception {
    ScriptedKvm kvm = new ScriptedKvm();
    kvm.then(new VcpuExit.IoOut(0xe9, 1, 'x'));
    kvm.then(new VcpuExit.IoOut(0xf4, 1, 0));
    ByteArrayOutputStream debugcon = new ByteArrayOutputStream();
    try (Machine m =
        Machine.firmware(
            kvm,
            new MachineConfig(
                MEMORY,
                false,
                Optional.empty(),
                List.of(DeviceSpec.parse("pc-testdev,pio=0xe0,route=in-process")),
                DeviceSpec.Route.IN_PROCESS),
            new FirmwareBoot(firmware(0x20000), DebugExitPort.Mode.QEMU, debugcon),
            new ByteArrayOutputStream(),
            null)) {
      assertEquals(new VmOutcome.GuestExited(1), m.run());
    }
    assertEquals("", debugcon.toString(StandardCharsets.US_ASCII));
  }

  /**
   * The machine leaves the vCPU as created: KVM creates it in the reset state (CS 0xf000, base
   * 0xffff0000, IP 0xfff0; FirmwareEndToEndTest boots from it on the real kernel side).
   */
  @Test
  void theVcpuStaysInTheResetState() throws Exception {
    ScriptedKvm kvm = new ScriptedKvm();
    try (Machine m = machine(kvm, 0x40000, new ByteArrayOutputStream())) {
      assertEquals(dev.toykvm.kvm.KvmRegs.reset(), kvm.regs);
      assertEquals(dev.toykvm.vmm.boot.EntryStateTest.RESET, kvm.sregs);
    }
  }

  @Test
  void otherSizesAreRefused() {
    ImageException e = assertThrows(ImageException.class, () -> new Firmware("x", new byte[3]));
    assertEquals(
        "cannot load firmware x: it is 3 bytes; firmware must be 64 KiB, 128 KiB or 256 KiB"
            + " (65536, 131072 or 262144 bytes)",
        e.getMessage());
    assertTrue(Firmware.SIZES.contains(0x4_0000));
  }
}
