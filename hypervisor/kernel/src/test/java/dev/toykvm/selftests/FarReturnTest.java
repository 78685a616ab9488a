package dev.toykvm.selftests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmRegs;
import dev.toykvm.kvm.VcpuExit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Far returns in real mode, which libunicorn 2.0.1 leaves with EIP at the retf's own linear address
 * whenever a memory-read hook exists (the kernel side always has one); the kernel side repairs EIP
 * before the next block runs (ARCHITECTURE.md, "The real-mode retf"). Each guest marks where it
 * arrives with {@code out 0x80}; a wrong EIP runs through zeroed RAM instead and never gets there.
 */
@Timeout(30)
class FarReturnTest {

  /** mov al, marker; out 0x80, al; hlt. */
  private static int[] mark(int marker) {
    return new int[] {0xb0, marker, 0xe6, 0x80, 0xf4};
  }

  private static void assertMarkThenHlt(TestVm t, int marker, int cs, long rip, long sp) {
    assertEquals(new VcpuExit.IoOut(0x80, 1, marker), t.vcpu.run());
    assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
    KvmRegs r = t.vcpu.getRegs();
    assertEquals(rip, r.rip(), "rip");
    assertEquals(sp, r.rsp() & 0xffff, "sp");
    assertEquals(cs, t.vcpu.getSregs().cs().selector(), "cs");
  }

  @Test
  void retfToTheSameSegment() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x10000, 0x0e, // push cs
          0x68, 0x10, 0x00, // push 0x0010
          0xcb); // retf
      t.load(0x10010, mark(0x11));
      t.realMode(0x1000, 0);
      assertMarkThenHlt(t, 0x11, 0x1000, 0x15, 0x8000);
    }
  }

  @Test
  void retfToAnotherSegment() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x10000, 0x68, 0x00, 0x20, // push 0x2000
          0x68, 0x10, 0x00, // push 0x0010
          0xcb); // retf
      t.load(0x20010, mark(0x12));
      t.realMode(0x1000, 0);
      assertMarkThenHlt(t, 0x12, 0x2000, 0x15, 0x8000);
    }
  }

  @Test
  void retfImm16DropsItsParameters() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x10000, 0x68, 0xaa, 0xaa, // push 0xaaaa (a parameter)
          0x68, 0xbb, 0xbb, // push 0xbbbb (another)
          0x68, 0x00, 0x20, // push 0x2000
          0x68, 0x10, 0x00, // push 0x0010
          0xca, 0x04, 0x00); // retf 4
      t.load(0x20010, mark(0x13));
      t.realMode(0x1000, 0);
      assertMarkThenHlt(t, 0x13, 0x2000, 0x15, 0x8000);
    }
  }

  @Test
  void o32RetfPopsDwords() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x10000, 0x66, 0x68, 0x00, 0x20, 0x00, 0x00, // push dword 0x2000
          0x66, 0x68, 0x10, 0x00, 0x00, 0x00, // push dword 0x0010
          0x66, 0xcb); // o32 retf
      t.load(0x20010, mark(0x14));
      t.realMode(0x1000, 0);
      assertMarkThenHlt(t, 0x14, 0x2000, 0x15, 0x8000);
    }
  }

  @Test
  void o32RetfImm16() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x10000, 0x66, 0x68, 0xaa, 0xaa, 0xaa, 0xaa, // push dword 0xaaaaaaaa (a parameter)
          0x66, 0x68, 0x00, 0x30, 0x00, 0x00, // push dword 0x3000
          0x66, 0x68, 0x20, 0x00, 0x00, 0x00, // push dword 0x0020
          0x66, 0xca, 0x04, 0x00); // o32 retf 4
      t.load(0x30020, mark(0x15));
      t.realMode(0x1000, 0);
      assertMarkThenHlt(t, 0x15, 0x3000, 0x25, 0x8000);
    }
  }

  @Test
  void nestedFarCallsReturnInOrder() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x10000, 0x9a, 0x00, 0x00, 0x00, 0x20, // call far 2000:0000
          0xb0, 0x33, 0xe6, 0x80, // mov al, 0x33; out 0x80, al
          0xf4); // hlt
      t.load(
          0x20000, 0x9a, 0x00, 0x00, 0x00, 0x30, // call far 3000:0000
          0xb0, 0x22, 0xe6, 0x80, // mov al, 0x22; out 0x80, al
          0xcb); // retf
      t.load(
          0x30000, 0xb0, 0x11, 0xe6, 0x80, // mov al, 0x11; out 0x80, al
          0xcb); // retf
      t.realMode(0x1000, 0);
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x11), t.vcpu.run());
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x22), t.vcpu.run());
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x33), t.vcpu.run());
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      assertEquals(0x0a, t.vcpu.getRegs().rip());
      assertEquals(0x1000, t.vcpu.getSregs().cs().selector());
      assertEquals(0x8000, t.vcpu.getRegs().rsp() & 0xffff);
    }
  }

  @Test
  void retfEndingAPage() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x10ff9, 0x68, 0x00, 0x20, // push 0x2000
          0x68, 0x10, 0x00, // push 0x0010
          0xcb); // retf, the last byte of the page
      t.load(0x20010, mark(0x16));
      t.realMode(0x1000, 0x0ff9);
      assertMarkThenHlt(t, 0x16, 0x2000, 0x15, 0x8000);
    }
  }

  @Test
  void retfImm16AcrossAPageBoundary() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x10ff5, 0x68, 0xaa, 0xaa, // push 0xaaaa
          0x68, 0x00, 0x20, // push 0x2000
          0x68, 0x10, 0x00, // push 0x0010
          0xca, 0x02, 0x00); // retf 2, from 0x10ffe to 0x11000
      t.load(0x20010, mark(0x17));
      t.realMode(0x1000, 0x0ff5);
      assertMarkThenHlt(t, 0x17, 0x2000, 0x15, 0x8000);
    }
  }

  @Test
  void retfAloneInItsBlockReturningToSegmentZero() {
    // The retf is a block of its own, CS stays 0: the wrong EIP would be the retf itself, and
    // the block after it the same block again.
    try (TestVm t = new TestVm()) {
      t.load(
          0x1000, 0x6a, 0x00, // push 0
          0x68, 0x00, 0x11, // push 0x1100
          0xeb, 0x00, // jmp short 0x1007 (ends the block)
          0xcb); // 0x1007: retf
      t.load(0x1100, mark(0x18));
      t.realMode(0x1000);
      assertMarkThenHlt(t, 0x18, 0, 0x1105, 0x8000);
    }
  }

  @Test
  void retfAfterATightLoopInSegmentZero() {
    // The loop's block follows itself with EIP inside it: the watch looks once, then remembers.
    try (TestVm t = new TestVm()) {
      t.load(
          0x1000, 0xb9, 0x00, 0x10, // mov cx, 0x1000
          0x49, // 0x1003: dec cx
          0x75, 0xfd, // jnz 0x1003
          0x6a, 0x00, // push 0
          0x68, 0x00, 0x12, // push 0x1200
          0xcb); // retf
      t.load(0x1200, mark(0x19));
      t.realMode(0x1000);
      assertMarkThenHlt(t, 0x19, 0, 0x1205, 0x8000);
      assertEquals(0, t.vcpu.getRegs().rcx() & 0xffff);
    }
  }

  @Test
  void retfToItsOwnAddressIsLeftAlone() {
    // A retf that pops its own address is right as it is; it then pops the next frame.
    try (TestVm t = new TestVm()) {
      t.load(
          0x1000, 0x6a, 0x00, // push 0
          0x68, 0x00, 0x13, // push 0x1300 (the second retf returns there)
          0x6a, 0x00, // push 0
          0x68, 0x0c, 0x10, // push 0x100c (the retf itself)
          0xeb, 0x00, // jmp short 0x100c
          0xcb); // 0x100c: retf
      t.load(0x1300, mark(0x1a));
      t.realMode(0x1000);
      assertMarkThenHlt(t, 0x1a, 0, 0x1305, 0x8000);
    }
  }

  @Test
  void wrongTargetThatLibunicornCannotTranslate() {
    // Where the bug would go (2000:(linear of the retf) = 0x30006) lies a far call through a
    // register, which makes libunicorn abort while translating: that block is never the guest's.
    try (TestVm t = new TestVm()) {
      t.load(
          0x10000, 0x68, 0x00, 0x20, // push 0x2000
          0x68, 0x10, 0x00, // push 0x0010
          0xcb); // retf (at linear 0x10006)
      t.load(0x30006, 0xff, 0xd8); // call far eax: libunicorn aborts on it
      t.load(0x20010, mark(0x1c));
      t.realMode(0x1000, 0);
      assertMarkThenHlt(t, 0x1c, 0x2000, 0x15, 0x8000);
    }
  }

  @Test
  void protectedModeRetfIsUnaffected() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x1000, 0x6a, 0x08, // push 0x08
          0x68, 0x00, 0x20, 0x00, 0x00, // push 0x2000
          0xcb); // retf
      t.load(0x2000, mark(0x1b));
      t.protectedMode(0x1000, new KvmDtable(0, 0));
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x1b), t.vcpu.run());
      assertInstanceOf(VcpuExit.Hlt.class, t.vcpu.run());
      assertEquals(0x2005, t.vcpu.getRegs().rip());
      assertEquals(0x8000, t.vcpu.getRegs().rsp());
    }
  }

  // ---- the other real-mode instructions that set EIP and load: not affected ------------------

  @Test
  void farCallAndFarJumpThroughMemory() {
    try (TestVm t = new TestVm()) {
      t.load(0x100, 0x00, 0x00, 0x00, 0x20); // DS:0100 -> 2000:0000
      t.load(0x104, 0x00, 0x00, 0x00, 0x30); // DS:0104 -> 3000:0000
      t.load(
          0x10000, 0xff, 0x1e, 0x00, 0x01, // call far [0x100]
          0xff, 0x2e, 0x04, 0x01); // jmp far [0x104]
      t.load(
          0x20000, 0xb0, 0x21, 0xe6, 0x80, // mov al, 0x21; out 0x80, al
          0xcb); // retf
      t.load(0x30000, mark(0x22));
      t.realMode(0x1000, 0);
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x21), t.vcpu.run());
      assertMarkThenHlt(t, 0x22, 0x3000, 0x05, 0x8000);
    }
  }

  @Test
  void nearCallThroughMemoryAndRetImm16() {
    try (TestVm t = new TestVm()) {
      t.load(0x100, 0x20, 0x00); // DS:0100 -> 0020
      t.load(
          0x10000, 0x6a, 0x55, // push 0x55 (a parameter)
          0xff, 0x16, 0x00, 0x01, // call [0x100]
          0xb0, 0x23, 0xe6, 0x80, // mov al, 0x23; out 0x80, al
          0xf4); // hlt
      t.load(0x10020, 0xc2, 0x02, 0x00); // ret 2
      t.realMode(0x1000, 0);
      assertMarkThenHlt(t, 0x23, 0x1000, 0x0b, 0x8000);
    }
  }

  @Test
  void intAndIret() {
    try (TestVm t = new TestVm()) {
      t.load(0x10 * 4, 0x00, 0x00, 0x00, 0x20); // IVT[0x10] = 2000:0000
      t.load(0x10000, 0xcd, 0x10); // int 0x10
      t.load(0x10002, mark(0x24));
      t.load(0x20000, 0xcf); // iret
      t.realMode(0x1000, 0);
      assertMarkThenHlt(t, 0x24, 0x1000, 0x07, 0x8000);
    }
  }
}
