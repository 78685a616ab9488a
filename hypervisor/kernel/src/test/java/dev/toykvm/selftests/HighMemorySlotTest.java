package dev.toykvm.selftests;

import static dev.toykvm.kvm.KvmConstants.X86_CR0_PE;
import static dev.toykvm.kvm.KvmConstants.X86_CR0_PG;
import static dev.toykvm.kvm.KvmConstants.X86_CR4_PAE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VcpuExit;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Memory slots above 4 GiB, as a PC with more than 3 GiB of RAM has them: a 64-bit guest reaches
 * them through identity-mapped pages, at 4 GiB and just below 33 GiB (where the largest toykvm
 * machine's RAM ends), and lands in the slots' own memory, not in the RAM at the same address
 * modulo 4 GiB. A 32-bit guest with PAE paging does not: libunicorn 2.0.1 maps every linear address
 * to the same physical address whatever the page tables say (Unicorn's "identity map guest virtual
 * address" in its x86 page walk, made optional in Unicorn 2.1), and a 32-bit linear address never
 * reaches 4 GiB; {@link #libunicorn201IgnoresThePaeFrameAbove4GiB} pins that down.
 */
@Timeout(30)
class HighMemorySlotTest {
  private static final long HIGH = 1L << 32;
  private static final long SIZE = 4L << 20;
  private static final long TOP = 33L << 30;

  private static MemorySegment slot(TestVm t, int slot, long gpa) {
    MemorySegment memory = t.arena.allocate(SIZE, 4096);
    t.vm.setUserMemoryRegion(new KvmUserspaceMemoryRegion(slot, 0, gpa, SIZE, memory));
    return memory;
  }

  @Test
  void aLongModeGuestReachesSlotsAt4GiBAndBelow33GiB() {
    try (TestVm t = new TestVm()) {
      MemorySegment high = slot(t, 1, HIGH);
      MemorySegment top = slot(t, 2, TOP - SIZE);
      // PDPT entries 4 and 32 (linear 4 GiB and 32 GiB) -> PDs at 0x205000 and 0x206000, with
      // 2 MiB identity pages at 4 GiB and at 33 GiB - 2 MiB
      long pdHigh = TestVm.PAGE_TABLES + 0x5000;
      long pdTop = TestVm.PAGE_TABLES + 0x6000;
      t.ram.set(ValueLayout.JAVA_LONG, TestVm.PAGE_TABLES + 0x1000 + 4 * 8, pdHigh | 0x3);
      t.ram.set(ValueLayout.JAVA_LONG, TestVm.PAGE_TABLES + 0x1000 + 32 * 8, pdTop | 0x3);
      t.load(
          0x1000, 0x48, 0xb8, 0x10, 0, 0, 0, 1, 0, 0, 0, // mov rax, 0x1_0000_0010
          0xc7, 0x00, 0x78, 0x56, 0x34, 0x12, //           mov dword [rax], 0x12345678
          0x48, 0xbb, 0xfc, 0xff, 0xff, 0x3f, 8, 0, 0, 0, // mov rbx, 0x8_3fff_fffc
          0xc7, 0x03, 0x0d, 0xf0, 0xfe, 0xca, //           mov dword [rbx], 0xcafef00d
          0x8b, 0x00, //                                   mov eax, [rax]
          0x03, 0x03, //                                   add eax, [rbx]
          0xe7, 0x80, //                                   out 0x80, eax
          0xf4); //                                        hlt
      t.longMode(0x1000);
      t.ram.set(ValueLayout.JAVA_LONG, pdHigh, HIGH | 0x83);
      t.ram.set(ValueLayout.JAVA_LONG, pdTop + 511 * 8, (TOP - (2L << 20)) | 0x83);
      assertEquals(
          new VcpuExit.IoOut(0x80, 4, (0x12345678L + 0xcafef00dL) & 0xffff_ffffL), t.vcpu.run());
      assertEquals(0x12345678, high.get(ValueLayout.JAVA_INT, 0x10));
      assertEquals(0xcafef00d, top.get(ValueLayout.JAVA_INT, SIZE - 4));
      assertEquals(0, t.ram.get(ValueLayout.JAVA_INT, 0x10), "not the RAM at 0x10");
    }
  }

  @Test
  void libunicorn201IgnoresThePaeFrameAbove4GiB() {
    try (TestVm t = new TestVm()) {
      MemorySegment high = slot(t, 1, HIGH);
      // PAE: PDPT at 1 MiB, PD 0 at 0x101000: linear 0-2 MiB identity, linear 2 MiB -> 4 GiB
      long pdpt = 0x100000;
      long pd0 = 0x101000;
      t.ram.set(ValueLayout.JAVA_LONG, pdpt, pd0 | 0x1);
      t.ram.set(ValueLayout.JAVA_LONG, pd0, 0x83);
      t.ram.set(ValueLayout.JAVA_LONG, pd0 + 8, HIGH | 0x83);
      t.load(
          0x1000, 0xb8, 0x20, 0, 0x20, 0, //              mov eax, 0x200020
          0xc7, 0x00, 0xef, 0xbe, 0xad, 0xde, //           mov dword [eax], 0xdeadbeef
          0x8b, 0x00, //                                   mov eax, [eax]
          0xe7, 0x80, //                                   out 0x80, eax
          0xf4); //                                        hlt
      t.protectedMode(0x1000, new KvmDtable(0, 0));
      t.vcpu.setSregs(t.vcpu.getSregs().withControl(X86_CR0_PE | X86_CR0_PG, pdpt, X86_CR4_PAE, 0));
      assertEquals(new VcpuExit.IoOut(0x80, 4, 0xdeadbeefL), t.vcpu.run());
      // On a CPU (and QEMU) the store lands at 4 GiB + 0x20; libunicorn 2.0.1 puts it at the
      // linear address. If this fails, libunicorn honours page tables now: PAE guests can reach
      // RAM above 4 GiB (guest-firmware's highmem with "pae"), and ARCHITECTURE.md should say so.
      assertEquals(0xdeadbeef, t.ram.get(ValueLayout.JAVA_INT, 0x200020));
      assertEquals(0, high.get(ValueLayout.JAVA_INT, 0x20));
    }
  }
}
