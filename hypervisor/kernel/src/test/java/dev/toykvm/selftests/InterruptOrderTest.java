package dev.toykvm.selftests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The in-kernel irqchip's delivery order and masking, in the style of the KVM selftests: local APIC
 * priority (the highest vector first), TPR and PPR (an interrupt in service holds back lower
 * classes until its EOI), the 8259's fixed priority, and the periodic local APIC timer waking
 * {@code hlt} again and again. Each handler reports its vector on port 0x80, so the sequence of
 * exits is the delivery order.
 */
@Timeout(30)
class InterruptOrderTest {
  private static final long IDT = 0x3000;
  private static final long LAPIC = 0xfee00000L;
  private static final long IOAPIC = 0xfec00000L;

  /** Hand-assembled 32-bit code, one method per instruction used here. */
  private static final class Asm {
    final List<Integer> bytes = new ArrayList<>();

    Asm b(int... bs) {
      for (int x : bs) {
        bytes.add(x & 0xff);
      }
      return this;
    }

    Asm imm32(long v) {
      return b((int) v, (int) (v >> 8), (int) (v >> 16), (int) (v >> 24));
    }

    /** mov dword [address], value */
    Asm store(long address, long value) {
      return b(0xc7, 0x05).imm32(address).imm32(value);
    }

    /** mov al, value; out port, al */
    Asm report(int port, int value) {
      return b(0xb0, value, 0xe6, port);
    }

    /** An I/O APIC pin: edge-triggered, fixed, to APIC ID 0, at {@code vector}. */
    Asm route(int pin, int vector) {
      return store(IOAPIC, 0x10 + 2 * pin).store(IOAPIC + 0x10, vector);
    }

    Asm eoi() {
      return store(LAPIC + 0xb0, 0);
    }

    /** jmp $+2: ends the translation block, as a fence for what the last write let through. */
    Asm jmpNext() {
      return b(0xeb, 0x00);
    }

    int[] code() {
      return bytes.stream().mapToInt(Integer::intValue).toArray();
    }
  }

  private static final ScheduledExecutorService WATCHDOG =
      Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().unstarted(r));

  /** run(), kicked after 10 s so that a lost interrupt fails the test instead of hanging it. */
  private static VcpuExit run(VcpuFd vcpu) {
    ScheduledFuture<?> dog = WATCHDOG.schedule(vcpu::kick, 10, TimeUnit.SECONDS);
    try {
      return vcpu.run();
    } finally {
      dog.cancel(false);
    }
  }

  /** A handler for {@code vector} at {@code at}: report it on port 0x80, EOI, iretd. */
  private static void handler(TestVm t, int vector, long at) {
    t.load(at, new Asm().report(0x80, vector).eoi().b(0xcf).code());
    t.gate32(IDT, vector, at);
  }

  private static void withChip(java.util.function.BiConsumer<VmFd, TestVm> body) {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      vm.createIrqchip();
      try (TestVm t = new TestVm(vm)) {
        body.accept(vm, t);
      }
    }
  }

  private static void raise(VmFd vm, int... gsis) {
    for (int gsi : gsis) {
      vm.irqLine(gsi, 1);
      vm.irqLine(gsi, 0);
    }
  }

  private static Asm prologue() {
    return new Asm().store(LAPIC + 0xf0, 0x1ff).route(20, 0x50).route(21, 0x60);
  }

  @Test
  void theHighestVectorIsDeliveredFirst() {
    withChip(
        (vm, t) -> {
          t.load(0x2000, prologue().report(0x83, 0).b(0xfb, 0x90).report(0x85, 0).code());
          handler(t, 0x50, 0x2100);
          handler(t, 0x60, 0x2200);
          t.protectedMode(0x2000, new KvmDtable(IDT, 256 * 8 - 1));
          assertEquals(new VcpuExit.IoOut(0x83, 1, 0), run(t.vcpu)); // IF=0 until the sti
          raise(vm, 20, 21); // 0x50 first, then 0x60: both wait in IRR
          assertEquals(new VcpuExit.IoOut(0x80, 1, 0x60), run(t.vcpu));
          assertEquals(new VcpuExit.IoOut(0x80, 1, 0x50), run(t.vcpu)); // after 0x60's EOI
          assertEquals(new VcpuExit.IoOut(0x85, 1, 0), run(t.vcpu));
        });
  }

  @Test
  void tprHoldsBackItsClassAndBelow() {
    withChip(
        (vm, t) -> {
          Asm main =
              prologue()
                  .store(LAPIC + 0x80, 0x50) // TPR: class 5
                  .report(0x83, 0)
                  .b(0xfb, 0x90) // sti; nop
                  .report(0x84, 0)
                  .store(LAPIC + 0x80, 0) // TPR 0: 0x50 may go
                  .jmpNext()
                  .report(0x85, 0);
          t.load(0x2000, main.code());
          handler(t, 0x50, 0x2100);
          handler(t, 0x60, 0x2200);
          t.protectedMode(0x2000, new KvmDtable(IDT, 256 * 8 - 1));
          assertEquals(new VcpuExit.IoOut(0x83, 1, 0), run(t.vcpu));
          raise(vm, 20, 21);
          assertEquals(new VcpuExit.IoOut(0x80, 1, 0x60), run(t.vcpu)); // class 6 > TPR
          assertEquals(new VcpuExit.IoOut(0x84, 1, 0), run(t.vcpu)); // 0x50 held back
          assertEquals(new VcpuExit.IoOut(0x80, 1, 0x50), run(t.vcpu)); // TPR lowered
          assertEquals(new VcpuExit.IoOut(0x85, 1, 0), run(t.vcpu));
        });
  }

  @Test
  void anInterruptInServiceHoldsBackLowerOnesUntilItsEoi() {
    withChip(
        (vm, t) -> {
          t.load(0x2000, prologue().report(0x83, 0).b(0xfb, 0x90).report(0x85, 0).code());
          handler(t, 0x50, 0x2100);
          // 0x60's handler enables interrupts, but PPR (class 6) holds 0x50 back until the EOI,
          // after which 0x50 nests inside it.
          Asm h60 =
              new Asm()
                  .report(0x80, 0x60)
                  .b(0xfb, 0x90, 0x90) // sti; nop; nop
                  .report(0x80, 0x61)
                  .eoi()
                  .jmpNext()
                  .report(0x80, 0x62)
                  .b(0xcf);
          t.load(0x2200, h60.code());
          t.gate32(IDT, 0x60, 0x2200);
          t.protectedMode(0x2000, new KvmDtable(IDT, 256 * 8 - 1));
          assertEquals(new VcpuExit.IoOut(0x83, 1, 0), run(t.vcpu));
          raise(vm, 21);
          assertEquals(new VcpuExit.IoOut(0x80, 1, 0x60), run(t.vcpu));
          raise(vm, 20); // now, while 0x60 is in service
          assertEquals(new VcpuExit.IoOut(0x80, 1, 0x61), run(t.vcpu)); // IF=1, PPR class 6
          assertEquals(new VcpuExit.IoOut(0x80, 1, 0x50), run(t.vcpu)); // right after the EOI
          assertEquals(new VcpuExit.IoOut(0x80, 1, 0x62), run(t.vcpu));
          assertEquals(new VcpuExit.IoOut(0x85, 1, 0), run(t.vcpu));
          byte[] lapic = t.vcpu.getLapic();
          for (int i = 0; i < 8; i++) {
            assertEquals(0, lapic[0x100 + 0x10 * i], "ISR word " + i + " clear after both EOIs");
          }
        });
  }

  @Test
  void thePicDeliversTheLowestIrqFirstAndHonoursItsMask() {
    withChip(
        (vm, t) -> {
          int[] init = {
            0xb0,
            0x11,
            0xe6,
            0x20, // ICW1
            0xb0,
            0x08,
            0xe6,
            0x21, // ICW2: vectors 8-15
            0xb0,
            0x04,
            0xe6,
            0x21, // ICW3
            0xb0,
            0x01,
            0xe6,
            0x21, // ICW4
            0xb0,
            0xf5,
            0xe6,
            0x21, // OCW1: IRQ 1 and 3 unmasked (and nothing else)
            0xe6,
            0x83, //             out 0x83, al   <- the lines are raised here (IF=0)
            0xfb,
            0x90, //             sti; nop
            0xe6,
            0x85 //              out 0x85, al
          };
          t.load(0x1000, init);
          for (int irq : new int[] {1, 3, 4}) {
            int at = 0x1100 + irq * 0x10;
            t.load(at, 0xb0, irq, 0xe6, 0x80, 0xb0, 0x20, 0xe6, 0x20, 0xcf); // report, EOI, iret
            t.load((8 + irq) * 4, at & 0xff, at >> 8, 0, 0);
          }
          t.realMode(0x1000);
          assertEquals(new VcpuExit.IoOut(0x83, 1, 0xf5), run(t.vcpu));
          raise(vm, 4, 3, 1); // IRQ 4 is masked
          assertEquals(new VcpuExit.IoOut(0x80, 1, 1), run(t.vcpu));
          assertEquals(new VcpuExit.IoOut(0x80, 1, 3), run(t.vcpu));
          assertEquals(new VcpuExit.IoOut(0x85, 1, 0x20), run(t.vcpu));
        });
  }

  @Test
  void thePeriodicLapicTimerWakesHltAgainAndAgain() {
    withChip(
        (vm, t) -> {
          Asm main =
              new Asm()
                  .store(LAPIC + 0xf0, 0x1ff)
                  .store(LAPIC + 0x3e0, 0xb) // divide by 1
                  .store(LAPIC + 0x320, 0x20040) // periodic, vector 0x40
                  .store(LAPIC + 0x380, 1_000_000) // 1 ms
                  .b(0xfb, 0xf4, 0xfa) // loop: sti; hlt; cli
                  .b(0x83, 0x3d)
                  .imm32(0x500)
                  .b(0x03) // cmp dword [0x500], 3
                  .b(0x72, 0xf4) // jb loop
                  .b(0xa1)
                  .imm32(0x500) // mov eax, [0x500]
                  .b(0xe7, 0x81); // out 0x81, eax
          t.load(0x2000, main.code());
          Asm h = new Asm().b(0xff, 0x05).imm32(0x500).eoi().b(0xcf); // inc dword [0x500]
          t.load(0x2100, h.code());
          t.gate32(IDT, 0x40, 0x2100);
          t.protectedMode(0x2000, new KvmDtable(IDT, 256 * 8 - 1));
          VcpuExit exit = run(t.vcpu);
          VcpuExit.IoOut out = assertInstanceOf(VcpuExit.IoOut.class, exit);
          assertEquals(0x81, out.port());
          assertTrue(out.data() >= 3, exit::toString);
        });
  }
}
