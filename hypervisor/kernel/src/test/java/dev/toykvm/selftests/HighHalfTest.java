package dev.toykvm.selftests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.kvm.VcpuExit;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Code and data at a linear address above the physical address space, as a 64-bit Linux kernel runs
 * at {@code 0xffffffff81000000}: the guest's page tables map it to RAM, and it must run although
 * libunicorn checks accesses by linear address (see {@code HighAliases}).
 */
@Timeout(30)
class HighHalfTest {
  @Test
  void codeAndDataRunThroughAHighMapping() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x10000, //
          0x48, 0xb8, 0x00, 0x00, 0x02, 0x80, 0xff, 0xff, 0xff, 0xff, // mov rax, 0xffffffff80020000
          0xc6, 0x00, 0x77, //                                          mov byte [rax], 0x77
          0x8a, 0x00, //                                                mov al, [rax]
          0xe6, 0x80, //                                                out 0x80, al
          0x48, 0xb8, 0x00, 0x10, 0x01, 0x80, 0xff, 0xff, 0xff, 0xff, // mov rax, 0xffffffff80011000
          0xff, 0xe0); //                                               jmp rax
      t.load(0x11000, 0xb0, 0x42, 0xe6, 0x81, 0xf4); // mov al, 0x42; out 0x81, al; hlt
      t.longMode(0x10000);
      // PML4[511] -> a PDPT whose entry 510 is the identity PD: linear 0xffffffff80000000 + x
      // is physical x, for x below 1 GiB.
      long pdpt = TestVm.PAGE_TABLES + 0x5000;
      t.ram.set(ValueLayout.JAVA_LONG, TestVm.PAGE_TABLES + 511 * 8, pdpt | 3);
      t.ram.set(ValueLayout.JAVA_LONG, pdpt + 510 * 8, (TestVm.PAGE_TABLES + 0x2000) | 3);
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x77), t.vcpu.run());
      assertEquals(0x77, t.ram.get(ValueLayout.JAVA_BYTE, 0x20000));
      assertEquals(new VcpuExit.IoOut(0x81, 1, 0x42), t.vcpu.run());
      assertEquals(new VcpuExit.Hlt(), t.vcpu.run());
      assertEquals(0xffff_ffff_8001_1005L, t.vcpu.getRegs().rip()); // past the hlt
    }
  }
}
