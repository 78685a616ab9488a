package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VcpuExit;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The machine model against a scripted kernel side: the memory map and the run loop. */
class MachineTest {
  private static GuestImage image() {
    byte[] rom = new byte[MachineLayout.ROM_SIZE];
    rom[0] = 0x11;
    rom[MachineLayout.ROM_SIZE - 16] = (byte) 0xea; // the reset vector's first byte
    return new GuestImage("test", "", rom);
  }

  @Test
  void memoryMapMatchesTheMachineModel() throws Exception {
    ScriptedKvm kvm = new ScriptedKvm();
    try (Machine m =
        Machine.create(
            kvm,
            new MachineConfig(32L << 20, false, Optional.empty()),
            image(),
            new ByteArrayOutputStream(),
            null)) {
      List<KvmUserspaceMemoryRegion> r = kvm.regions;
      assertEquals(4, r.size());
      assertRegion(r.get(0), 0, KvmConstants.KVM_MEM_READONLY, 0xffff_0000L, 0x1_0000);
      assertRegion(r.get(1), 1, KvmConstants.KVM_MEM_READONLY, 0xf_0000L, 0x1_0000);
      assertRegion(r.get(2), 2, 0, 0, 0xa_0000);
      assertRegion(r.get(3), 3, 0, 0x10_0000, (32L << 20) - 0x10_0000);
      // Both ROM slots are one mapping holding the image.
      assertEquals(r.get(0).userspaceAddr().address(), r.get(1).userspaceAddr().address());
      assertEquals(0x11, r.get(0).userspaceAddr().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
      // RAM: the file offset is the guest-physical address.
      assertEquals(
          r.get(2).userspaceAddr().address() + 0x10_0000, r.get(3).userspaceAddr().address());
      for (KvmUserspaceMemoryRegion region : r) {
        assertEquals(0, region.userspaceAddr().address() % KvmConstants.PAGE_SIZE);
      }
    }
    assertTrue(kvm.vmClosed);
    assertTrue(kvm.vcpuClosed);
  }

  private static void assertRegion(
      KvmUserspaceMemoryRegion r, int slot, int flags, long gpa, long size) {
    assertEquals(slot, r.slot());
    assertEquals(flags, r.flags());
    assertEquals(gpa, r.guestPhysAddr());
    assertEquals(size, r.memorySize());
    assertTrue(r.userspaceAddr().byteSize() >= size);
  }

  @Test
  void aGuestThatPollsTheUartPrintsAndExits() throws Exception {
    ScriptedKvm kvm = new ScriptedKvm();
    for (char c : "ok\n".toCharArray()) {
      kvm.then(new VcpuExit.IoIn(0x3fd, 1, v -> {}))
          .then(
              lsr -> (lsr & 0x20) != 0 ? new VcpuExit.IoOut(0x3f8, 1, c) : new VcpuExit.Shutdown());
    }
    kvm.then(new VcpuExit.IoOut(0x80, 1, 0x55)); // a POST code: nobody listens
    kvm.then(new VcpuExit.IoOut(0xf4, 1, 3));
    ByteArrayOutputStream serial = new ByteArrayOutputStream();
    try (Machine m = Machine.create(kvm, MachineConfig.defaults(), image(), serial, null)) {
      assertEquals(new VmOutcome.GuestExited(3), m.run());
      assertEquals(1, m.exits().unclaimedPioAccesses());
    }
    assertEquals("ok\n", serial.toString(StandardCharsets.US_ASCII));
  }

  @Test
  void stopEndsTheRunWithATimeout() throws Exception {
    ScriptedKvm kvm = new ScriptedKvm();
    for (int i = 0; i < 3; i++) {
      kvm.then(new VcpuExit.IoOut(0x80, 1, i));
    }
    MachineConfig config =
        new MachineConfig(MachineLayout.DEFAULT_MEMORY, false, Optional.of(Duration.ofHours(1)));
    try (Machine m = Machine.create(kvm, config, image(), new ByteArrayOutputStream(), null)) {
      m.stop();
      VmOutcome o = m.run();
      assertEquals(ExitCodes.TIMEOUT, o.exitCode());
    }
  }

  @Test
  void theTimeoutKicksTheVcpu() throws Exception {
    ScriptedKvm kvm = new ScriptedKvm();
    // A guest that spins on an unclaimed port, forever (until kicked).
    kvm.thenForever(answer -> new VcpuExit.IoOut(0x80, 1, 0));
    MachineConfig config =
        new MachineConfig(MachineLayout.DEFAULT_MEMORY, false, Optional.of(Duration.ofMillis(50)));
    try (Machine m = Machine.create(kvm, config, image(), new ByteArrayOutputStream(), null)) {
      VmOutcome o = m.run();
      assertEquals(new VmOutcome.TimedOut(Duration.ofMillis(50)), o);
    }
  }
}
