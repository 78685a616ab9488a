package dev.toykvm.selftests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VmFd;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A write to a {@code KVM_MEM_READONLY} slot is one {@code KVM_EXIT_MMIO} with the written value,
 * and the memory never changes: the guest reads and executes the old bytes, in the same translation
 * block as the write and in the next.
 */
@Timeout(30)
class ReadOnlySlotTest {
  private static final long ROM = 0x1000_0000L;

  /** A test VM with a 4 KiB read-only slot at {@link #ROM} holding {@code bytes} at offset 0. */
  private static final class RomVm implements AutoCloseable {
    final Kvm kvm = Kvm.open();
    final VmFd vm = kvm.createVm();
    final Arena arena = Arena.ofShared();
    final MemorySegment rom = arena.allocate(0x1000, 4096);
    final TestVm t;

    RomVm(int... bytes) {
      rom.fill((byte) 0x99);
      for (int i = 0; i < bytes.length; i++) {
        rom.set(ValueLayout.JAVA_BYTE, i, (byte) bytes[i]);
      }
      // The slot before the vCPU: mapped once (a slot added later costs a remap of every gap).
      vm.setUserMemoryRegion(
          new KvmUserspaceMemoryRegion(1, KvmConstants.KVM_MEM_READONLY, ROM, 0x1000, rom));
      t = new TestVm(vm);
    }

    byte romByte(long offset) {
      return rom.get(ValueLayout.JAVA_BYTE, offset);
    }

    @Override
    public void close() {
      t.close();
      vm.close();
      kvm.close();
      arena.close();
    }
  }

  @Test
  void aReadInTheSameBlockAndInTheNextSeesTheOldByte() {
    try (RomVm r = new RomVm(0x11)) {
      r.t.load(
          0x1000, 0xc6, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, 0x55, // mov byte [ROM], 0x55
          0x8a, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, // mov al, [ROM]   (same block)
          0xeb, 0x00, // jmp next
          0x8a, 0x1c, 0x25, 0x00, 0x00, 0x00, 0x10, // next: mov bl, [ROM]
          0xf4); // hlt
      r.t.longMode(0x1000);
      assertEquals(new VcpuExit.MmioWrite(ROM, 1, 0x55), r.t.vcpu.run());
      assertInstanceOf(VcpuExit.Hlt.class, r.t.vcpu.run());
      KvmRegs regs = r.t.vcpu.getRegs();
      assertEquals(0x11, regs.rax() & 0xff);
      assertEquals(0x11, regs.rbx() & 0xff);
      assertEquals(0x11, r.romByte(0));
    }
  }

  @Test
  void anEightByteWriteIsOneExitAndTheWholeWordStays() {
    try (RomVm r = new RomVm()) {
      r.t.load(
          0x1000, 0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, // mov rax, imm64
          0x48, 0x89, 0x04, 0x25, 0x08, 0x00, 0x00, 0x10, // mov [ROM+8], rax
          0x48, 0x8b, 0x1c, 0x25, 0x08, 0x00, 0x00, 0x10, // mov rbx, [ROM+8]
          0xf4); // hlt
      r.t.longMode(0x1000);
      assertEquals(new VcpuExit.MmioWrite(ROM + 8, 8, 0x1122_3344_5566_7788L), r.t.vcpu.run());
      assertInstanceOf(VcpuExit.Hlt.class, r.t.vcpu.run());
      assertEquals(0x9999_9999_9999_9999L, r.t.vcpu.getRegs().rbx());
    }
  }

  @Test
  void codePatchedInRomRunsUnpatchedInTheNextBlock() {
    try (RomVm r = new RomVm(0xb0, 0x01, 0xc3)) { // ROM: mov al, 1 ; ret
      r.t.load(
          0x1000, 0x48, 0xc7, 0xc1, 0x00, 0x00, 0x00, 0x10, // mov rcx, ROM
          0xff, 0xd1, // call rcx  (translates the ROM code)
          0x88, 0xc3, // mov bl, al
          0xc6, 0x04, 0x25, 0x01, 0x00, 0x00, 0x10, 0x02, // mov byte [ROM+1], 2
          0xb0, 0x00, // mov al, 0
          0xff, 0xd1, // call rcx  (the next block: must still be "mov al, 1")
          0xf4); // hlt
      r.t.longMode(0x1000);
      assertEquals(new VcpuExit.MmioWrite(ROM + 1, 1, 2), r.t.vcpu.run());
      assertInstanceOf(VcpuExit.Hlt.class, r.t.vcpu.run());
      KvmRegs regs = r.t.vcpu.getRegs();
      assertEquals(1, regs.rbx() & 0xff);
      assertEquals(1, regs.rax() & 0xff, "the written byte was executed");
      assertEquals(1, r.romByte(1));
    }
  }

  @Test
  void codeInRomPatchingItsNextInstructionRunsUnpatchedAndExitsOnce() {
    try (RomVm r =
        new RomVm(
            0xc6, 0x05, 0x01, 0x00, 0x00, 0x00, 0x02, // mov byte [rip+1], 2  (-> ROM+8)
            0xb0, 0x01, // mov al, 1   (its immediate is ROM+8; same block)
            0xf4)) { // hlt
      r.t.load(0x1000, 0x48, 0xc7, 0xc1, 0x00, 0x00, 0x00, 0x10, 0xff, 0xe1); // jmp ROM
      r.t.longMode(0x1000);
      assertEquals(new VcpuExit.MmioWrite(ROM + 8, 1, 2), r.t.vcpu.run());
      assertInstanceOf(VcpuExit.Hlt.class, r.t.vcpu.run());
      assertEquals(1, r.t.vcpu.getRegs().rax() & 0xff);
      assertEquals(1, r.romByte(8));
    }
  }

  @Test
  void anInstructionWritingIntoItselfExitsOnce() {
    try (RomVm r =
        new RomVm(
            0xc6, 0x05, 0xfb, 0xff, 0xff, 0xff, 0x77, // mov byte [rip-5], 0x77  (-> ROM+2)
            0x8a, 0x04, 0x25, 0x02, 0x00, 0x00, 0x10, // mov al, [ROM+2]
            0xf4)) {
      r.t.load(0x1000, 0x48, 0xc7, 0xc1, 0x00, 0x00, 0x00, 0x10, 0xff, 0xe1); // jmp ROM
      r.t.longMode(0x1000);
      assertEquals(new VcpuExit.MmioWrite(ROM + 2, 1, 0x77), r.t.vcpu.run());
      assertInstanceOf(VcpuExit.Hlt.class, r.t.vcpu.run());
      assertEquals(0xfb, r.t.vcpu.getRegs().rax() & 0xff);
    }
  }

  @Test
  void repStosIntoRomIsOneExitPerElement() {
    try (RomVm r = new RomVm(0x11, 0x22, 0x33)) {
      r.t.load(
          0x1000, 0x48, 0xc7, 0xc7, 0x00, 0x00, 0x00, 0x10, // mov rdi, ROM
          0x48, 0xc7, 0xc1, 0x03, 0x00, 0x00, 0x00, // mov rcx, 3
          0xb0, 0x77, // mov al, 0x77
          0xf3, 0xaa, // rep stosb
          0x8b, 0x1c, 0x25, 0x00, 0x00, 0x00, 0x10, // mov ebx, [ROM]
          0xf4);
      r.t.longMode(0x1000);
      for (int i = 0; i < 3; i++) {
        assertEquals(new VcpuExit.MmioWrite(ROM + i, 1, 0x77), r.t.vcpu.run());
      }
      assertInstanceOf(VcpuExit.Hlt.class, r.t.vcpu.run());
      KvmRegs regs = r.t.vcpu.getRegs();
      assertEquals(0x9933_2211L, regs.rbx());
      assertEquals(0, regs.rcx());
      assertEquals(ROM + 3, regs.rdi());
    }
  }

  /**
   * Two read-only slots over the same memory, as a PC's firmware at the top of 4 GiB and its alias
   * below 1 MiB: a write through one must not be seen through the other either.
   */
  @Test
  void aReadThroughAnAliasSlotOfTheSameMemorySeesTheOldByte() {
    long alias = 0x2000_0000L;
    try (Arena arena = Arena.ofShared();
        Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      MemorySegment rom = arena.allocate(0x1000, 4096);
      rom.fill((byte) 0x11);
      vm.setUserMemoryRegion(
          new KvmUserspaceMemoryRegion(1, KvmConstants.KVM_MEM_READONLY, ROM, 0x1000, rom));
      vm.setUserMemoryRegion(
          new KvmUserspaceMemoryRegion(2, KvmConstants.KVM_MEM_READONLY, alias, 0x1000, rom));
      try (TestVm t = new TestVm(vm)) {
        t.load(
            0x1000, 0xc6, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, 0x55, // mov byte [ROM], 0x55
            0x8a, 0x04, 0x25, 0x00, 0x00, 0x00, 0x20, // mov al, [alias]
            0xeb, 0x00, // jmp next
            0xc6, 0x04, 0x25, 0x01, 0x00, 0x00, 0x20, 0x66, // next: mov byte [alias+1], 0x66
            0x8a, 0x1c, 0x25, 0x01, 0x00, 0x00, 0x10, // mov bl, [ROM+1]
            0xf4); // hlt
        t.longMode(0x1000);
        assertEquals(new VcpuExit.MmioWrite(ROM, 1, 0x55), t.vcpu.run());
        assertEquals(new VcpuExit.MmioWrite(alias + 1, 1, 0x66), t.vcpu.run());
        assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
        KvmRegs regs = t.vcpu.getRegs();
        assertEquals(0x11, regs.rax() & 0xff, "the write through the ROM, read through the alias");
        assertEquals(0x11, regs.rbx() & 0xff, "the write through the alias, read through the ROM");
        assertEquals(0x11, rom.get(ValueLayout.JAVA_BYTE, 0));
      }
    }
  }
}
