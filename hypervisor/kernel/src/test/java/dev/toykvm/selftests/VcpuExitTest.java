package dev.toykvm.selftests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.VcpuExit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The exits of KVM_RUN, asserted in order, for hand-assembled guest code. */
@Timeout(30)
class VcpuExitTest {

  @Test
  void ioOutThenHlt() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x1000, 0xba, 0xf8, 0x03, // mov dx, 0x3f8
          0xb0, 0x41, // mov al, 'A'
          0xee, // out dx, al
          0xf4); // hlt
      t.realMode(0x1000);
      assertEquals(new VcpuExit.IoOut(0x3f8, 1, 0x41), t.vcpu.run());
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      assertEquals(0x1007, t.vcpu.getRegs().rip());
    }
  }

  @Test
  void ioInIsCompletedByTheNextRun() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x1000, 0xba, 0x60, 0x00, // mov dx, 0x60
          0xec, // in al, dx
          0x88, 0xc3, // mov bl, al
          0xed, // in ax, dx
          0x89, 0xc1, // mov cx, ax
          0x66, 0xed, // in eax, dx
          0xf4); // hlt
      t.realMode(0x1000);
      VcpuExit.IoIn in1 = assertInstanceOf(VcpuExit.IoIn.class, t.vcpu.run());
      assertEquals(0x60, in1.port());
      assertEquals(1, in1.size());
      in1.setData(0xab);
      VcpuExit.IoIn in2 = assertInstanceOf(VcpuExit.IoIn.class, t.vcpu.run());
      assertEquals(2, in2.size());
      in2.setData(0xbeef);
      VcpuExit.IoIn in4 = assertInstanceOf(VcpuExit.IoIn.class, t.vcpu.run());
      assertEquals(4, in4.size());
      in4.setData(0x1234_5678);
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      KvmRegs r = t.vcpu.getRegs();
      assertEquals(0xab, r.rbx() & 0xff);
      assertEquals(0xbeef, r.rcx() & 0xffff);
      assertEquals(0x1234_5678, r.rax() & 0xffff_ffffL);
    }
  }

  @Test
  void mmioReadsOfEverySizeAreCompletedByTheNextRun() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x1000, 0x8a, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, // mov al, [0x10000000]
          0x66, 0x8b, 0x1c, 0x25, 0x10, 0x00, 0x00, 0x10, // mov bx, [0x10000010]
          0x8b, 0x0c, 0x25, 0x20, 0x00, 0x00, 0x10, // mov ecx, [0x10000020]
          0x48, 0x8b, 0x14, 0x25, 0x30, 0x00, 0x00, 0x10, // mov rdx, [0x10000030]
          0xf4); // hlt
      t.longMode(0x1000);
      long[][] expected = {
        {0x1000_0000L, 1, 0x11},
        {0x1000_0010L, 2, 0x2222},
        {0x1000_0020L, 4, 0x3333_3333L},
        {0x1000_0030L, 8, 0x4444_5555_6666_7777L}
      };
      for (long[] e : expected) {
        VcpuExit.MmioRead read = assertInstanceOf(VcpuExit.MmioRead.class, t.vcpu.run());
        assertEquals(e[0], read.address());
        assertEquals(e[1], read.size());
        read.setData(e[2] | 0xff00_0000_0000_0000L);
      }
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      KvmRegs r = t.vcpu.getRegs();
      assertEquals(0x11, r.rax() & 0xff);
      assertEquals(0x2222, r.rbx() & 0xffff);
      assertEquals(0x3333_3333L, r.rcx());
      assertEquals(0xff44_5555_6666_7777L, r.rdx());
    }
  }

  @Test
  void mmioWritesOfEverySizeAreOneExitEach() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x1000, 0xc6, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, 0x11, // mov byte [0x10000000], 0x11
          0x66, 0xc7, 0x04, 0x25, 0x02, 0x00, 0x00, 0x10, 0x33, 0x22, // mov word [..02], 0x2233
          0xc7, 0x04, 0x25, 0x04, 0x00, 0x00, 0x10, 0x77, 0x66, 0x55, 0x44, // mov dword [..04]
          0x48, 0xb8, 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, // mov rax, 0x8899..ff
          0x48, 0x89, 0x04, 0x25, 0x08, 0x00, 0x00, 0x10, // mov [0x10000008], rax
          0xf4); // hlt
      t.longMode(0x1000);
      assertEquals(new VcpuExit.MmioWrite(0x1000_0000L, 1, 0x11), t.vcpu.run());
      assertEquals(new VcpuExit.MmioWrite(0x1000_0002L, 2, 0x2233), t.vcpu.run());
      assertEquals(new VcpuExit.MmioWrite(0x1000_0004L, 4, 0x4455_6677L), t.vcpu.run());
      assertEquals(new VcpuExit.MmioWrite(0x1000_0008L, 8, 0x8899_aabb_ccdd_eeffL), t.vcpu.run());
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
    }
  }

  @Test
  void tripleFaultIsShutdown() {
    try (TestVm t = new TestVm()) {
      t.load(0x1000, 0x0f, 0x0b); // ud2
      t.protectedMode(0x1000, new KvmDtable(0, 0)); // an IDT that holds no gate
      assertInstanceOf(VcpuExit.Shutdown.class, t.vcpu.run());
    }
  }

  @Test
  void softwareInterruptGoesThroughTheRealModeIvt() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x1000, 0xcd, 0x10, // int 0x10
          0xe6, 0x80, // out 0x80, al
          0xf4, // hlt
          0xb0, 0x77, // handler at 0x1005: mov al, 0x77
          0xcf); // iret
      t.load(0x10 * 4, 0x05, 0x10, 0x00, 0x00); // IVT[0x10] = 0000:1005
      t.realMode(0x1000);
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x77), t.vcpu.run());
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      assertEquals(0x8000, t.vcpu.getRegs().rsp() & 0xffff);
    }
  }

  @Test
  void writeToReadOnlyMemoryIsAnMmioExitAndChangesNothing() {
    try (TestVm t = new TestVm();
        java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
      java.lang.foreign.MemorySegment rom = arena.allocate(0x1000, 4096);
      rom.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 0x99);
      t.vm.setUserMemoryRegion(
          new dev.toykvm.kvm.KvmUserspaceMemoryRegion(
              1, dev.toykvm.kvm.KvmConstants.KVM_MEM_READONLY, 0x1000_0000L, 0x1000, rom));
      t.load(
          0x1000, 0xc6, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, 0x55, // mov byte [0x10000000], 0x55
          0x8a, 0x04, 0x25, 0x00, 0x00, 0x00, 0x10, // mov al, [0x10000000]
          0xf4); // hlt
      t.longMode(0x1000);
      assertEquals(new VcpuExit.MmioWrite(0x1000_0000L, 1, 0x55), t.vcpu.run());
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      assertEquals((byte) 0x99, rom.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
    }
  }

  @Test
  void unalignedMmioReadIsOneExitOfItsOwnSize() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x1000, 0x8b, 0x0c, 0x25, 0x0e, 0x00, 0x00, 0x10, // mov ecx, [0x1000000e]
          0x48, 0x8b, 0x14, 0x25, 0x04, 0x00, 0x00, 0x10, // mov rdx, [0x10000004]
          0xf4); // hlt
      t.longMode(0x1000);
      VcpuExit.MmioRead r4 = assertInstanceOf(VcpuExit.MmioRead.class, t.vcpu.run());
      assertEquals(0x1000_000eL, r4.address());
      assertEquals(4, r4.size());
      r4.setData(0xaabb_ccddL);
      VcpuExit.MmioRead r8 = assertInstanceOf(VcpuExit.MmioRead.class, t.vcpu.run());
      assertEquals(0x1000_0004L, r8.address());
      assertEquals(8, r8.size());
      r8.setData(0x0102_0304_0506_0708L);
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      assertEquals(0xaabb_ccddL, t.vcpu.getRegs().rcx());
      assertEquals(0x0102_0304_0506_0708L, t.vcpu.getRegs().rdx());
    }
  }

  @Test
  void executingFromMmioIsAnInternalErrorNotACrash() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x1000, 0x48, 0xb8, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, // mov rax, 0x10000000
          0xff, 0xe0); // jmp rax   (nothing but MMIO there)
      t.longMode(0x1000);
      VcpuExit.InternalError e = assertInstanceOf(VcpuExit.InternalError.class, t.vcpu.run());
      assertEquals(KvmConstants.KVM_INTERNAL_ERROR_EMULATION, e.suberror());
    }
  }
}
