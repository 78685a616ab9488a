package dev.toykvm.selftests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.VcpuExit;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A guest that maps pages on demand, as Linux's decompressor does: its #PF handler writes the
 * missing page-table entry from CR2 and returns, and the faulting store runs again and lands.
 *
 * <p>The second fault is the one that used to fail: QEMU remembers the exception "in flight"
 * ({@code env->old_exception}) until its own delivery clears it, Unicorn never delivers, so the
 * second #PF became a double fault and then a triple fault, a silent stop of {@code uc_emu_start}
 * that the kernel side took for a {@code hlt}.
 */
@Timeout(30)
class PageFaultRetryTest {
  private static final long IDT = 0x3000;
  private static final long PD = TestVm.PAGE_TABLES + 0x2000;
  private static final long PT = TestVm.PAGE_TABLES + 0x3000; // maps 2-4 MiB with 4 KiB pages

  /** Linear 2-4 MiB through {@link #PT}, identity, with the pages 0x300000-0x303fff absent. */
  private static void pageTableWithAHole(TestVm t) {
    for (long i = 0; i < 512; i++) {
      long absent = i >= 0x100 && i < 0x104 ? 0 : 0x3;
      t.ram.set(ValueLayout.JAVA_LONG, PT + i * 8, absent == 0 ? 0 : (0x200000 + (i << 12)) | 0x3);
    }
    t.ram.set(ValueLayout.JAVA_LONG, PD + 8, PT | 0x3);
  }

  /** The #PF handler at 0x2100: PT[(CR2 - 2 MiB) >> 12] = CR2's page | present | writable. */
  private static void mapOnDemandHandler(TestVm t) {
    t.load(
        0x2100, 0x50, //                               push rax
        0x53, //                                       push rbx
        0x0f, 0x20, 0xd0, //                           mov rax, cr2
        0x48, 0xc1, 0xe8, 0x0c, //                     shr rax, 12
        0x48, 0x8d, 0x1c, 0xc5, 0x00, 0x20, 0x20, 0x00, // lea rbx, [rax*8 + PT - 0x200*8]
        0x48, 0xc1, 0xe0, 0x0c, //                     shl rax, 12
        0x48, 0x83, 0xc8, 0x03, //                     or rax, 3
        0x48, 0x89, 0x03, //                           mov [rbx], rax
        0x5b, //                                       pop rbx
        0x58, //                                       pop rax
        0x48, 0x83, 0xc4, 0x08, //                     add rsp, 8 (the error code)
        0x48, 0xcf); //                                iretq
    t.gate64(IDT, 14, 0x2100);
  }

  @Test
  void aHandlerThatMapsThePageLetsTheStoreRunAgain() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x2000, 0x48, 0xb8, 0x08, 0, 0x30, 0, 0, 0, 0, 0, // mov rax, 0x300008 (not present)
          0xc6, 0x00, 0x5a, //                                mov byte [rax], 0x5a  <- #PF
          0x8a, 0x00, //                                      mov al, [rax]
          0xe6, 0x81, //                                      out 0x81, al
          0xf4); //                                           hlt
      mapOnDemandHandler(t);
      t.longMode(0x2000, new KvmDtable(IDT, 256 * 16 - 1));
      pageTableWithAHole(t);
      assertEquals(new VcpuExit.IoOut(0x81, 1, 0x5a), t.vcpu.run());
      assertEquals(0x5a, t.ram.get(ValueLayout.JAVA_BYTE, 0x300008));
      assertEquals(0x300003L, t.ram.get(ValueLayout.JAVA_LONG, PT + 0x100 * 8) & ~0x60L);
    }
  }

  @Test
  void everyFaultOfALoopIsDelivered() {
    try (TestVm t = new TestVm()) {
      t.load(
          0x2000, 0x48, 0xb8, 0x10, 0, 0x30, 0, 0, 0, 0, 0, // mov rax, 0x300010
          0xb9, 0x04, 0, 0, 0, //                             mov ecx, 4
          0x88, 0x08, //                               loop:  mov [rax], cl   <- #PF each page
          0x48, 0x05, 0x00, 0x10, 0, 0, //                    add rax, 0x1000
          0xff, 0xc9, //                                      dec ecx
          0x75, 0xf4, //                                      jnz loop
          0xe6, 0x81, //                                      out 0x81, al
          0xf4); //                                           hlt
      mapOnDemandHandler(t);
      t.longMode(0x2000, new KvmDtable(IDT, 256 * 16 - 1));
      pageTableWithAHole(t);
      VcpuExit e = t.vcpu.run();
      assertEquals(new VcpuExit.IoOut(0x81, 1, 0x10), e);
      for (int page = 0; page < 4; page++) {
        assertEquals(4 - page, t.ram.get(ValueLayout.JAVA_BYTE, 0x300010 + page * 0x1000L));
      }
      assertEquals(0x303010L, t.vcpu.getSregs().cr2()); // the last fault's address
    }
  }
}
