package dev.toykvm.selftests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmException;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * The in-kernel irqchip ({@code KVM_CREATE_IRQCHIP}): its ioctls and their errors, its registers
 * served without exits, and interrupts delivered at an instruction boundary through the IVT/IDT,
 * waking {@code hlt}.
 */
@Timeout(30)
class IrqchipTest {
  private static final long IDT = 0x3000;

  private static void assertErrno(Errno errno, Executable call) {
    KvmException e = assertThrows(KvmException.class, call);
    assertEquals(errno, e.errno(), e.getMessage());
  }

  /** A VM with an irqchip and a {@link TestVm} on it. */
  private record Chip(Kvm kvm, VmFd vm, TestVm t) implements AutoCloseable {
    static Chip create() {
      Kvm kvm = Kvm.open();
      VmFd vm = kvm.createVm();
      vm.createIrqchip();
      return new Chip(kvm, vm, new TestVm(vm));
    }

    @Override
    public void close() {
      t.close();
      vm.close();
      kvm.close();
    }
  }

  /** Real-mode code at 0x1000 that programs the PIC pair: vectors 8-15, only IRQ 1 unmasked. */
  private static int loadPicInit(TestVm t) {
    return loadPicInit(t, 0xfd);
  }

  /** The same with the master's mask {@code imr}. */
  private static int loadPicInit(TestVm t, int imr) {
    t.load(
        0x1000, 0xb0, 0x11, // mov al, 0x11   ICW1: edge, cascade, ICW4 follows
        0xe6, 0x20, //         out 0x20, al
        0xb0, 0x08, //         mov al, 0x08   ICW2: vector base 8
        0xe6, 0x21, //         out 0x21, al
        0xb0, 0x04, //         mov al, 0x04   ICW3: the slave on IR2
        0xe6, 0x21, //         out 0x21, al
        0xb0, 0x01, //         mov al, 0x01   ICW4: 8086 mode
        0xe6, 0x21, //         out 0x21, al
        0xb0, imr, //          mov al, imr    OCW1: the mask
        0xe6, 0x21); //        out 0x21, al
    return 0x1014;
  }

  /** The IRQ 1 handler at 0x1100 (IVT[9]): out 0x80 <- 0x42, EOI to the PIC, iret. */
  private static void loadIrq1Handler(TestVm t) {
    t.load(
        0x1100, 0xb0, 0x42, // mov al, 0x42
        0xe6, 0x80, //         out 0x80, al
        0xb0, 0x20, //         mov al, 0x20   OCW2: non-specific EOI
        0xe6, 0x20, //         out 0x20, al
        0xcf); //              iret
    t.load(9 * 4, 0x00, 0x11, 0x00, 0x00); // IVT[9] = 0000:1100
  }

  private static final ScheduledExecutorService WATCHDOG =
      Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().unstarted(r));

  /**
   * {@code run()}, kicked after 10 s: a guest left waiting in {@code hlt} fails the test with an
   * {@code Intr} exit instead of hanging it (a kick is the only way out of a wait with IF=0).
   */
  private static VcpuExit run(VcpuFd vcpu) {
    ScheduledFuture<?> dog = WATCHDOG.schedule(vcpu::kick, 10, TimeUnit.SECONDS);
    try {
      return vcpu.run();
    } finally {
      dog.cancel(false);
    }
  }

  private static int savedIp(TestVm t) {
    return t.ram.get(ValueLayout.JAVA_SHORT, t.vcpu.getRegs().rsp() & 0xffff) & 0xffff;
  }

  @Test
  void ioctlErrors() {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      assertEquals(1, vm.checkExtension(KvmConstants.KVM_CAP_IRQCHIP));
      assertEquals(1, kvm.checkExtension(KvmConstants.KVM_CAP_MP_STATE));
      assertErrno(Errno.ENXIO, () -> vm.irqLine(1, 1));
      try (VcpuFd vcpu = vm.createVcpu(0)) {
        assertErrno(Errno.ENXIO, vcpu::getLapic);
        assertErrno(Errno.ENXIO, () -> vcpu.setLapic(new byte[1024]));
        assertEquals(KvmConstants.KVM_MP_STATE_RUNNABLE, vcpu.getMpState());
        assertErrno(Errno.EINVAL, () -> vcpu.setMpState(KvmConstants.KVM_MP_STATE_HALTED));
        vcpu.setMpState(KvmConstants.KVM_MP_STATE_RUNNABLE);
        assertErrno(Errno.EINVAL, vm::createIrqchip); // vCPUs exist
      }
    }
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      vm.createIrqchip();
      assertErrno(Errno.EEXIST, vm::createIrqchip);
      assertErrno(Errno.EINVAL, () -> vm.irqLine(-1, 1));
      vm.irqLine(99, 1); // no route: ignored, as KVM does
      try (VcpuFd vcpu = vm.createVcpu(0)) {
        assertErrno(Errno.EFAULT, () -> vcpu.setLapic(null));
        assertErrno(Errno.EINVAL, () -> vcpu.setLapic(new byte[1023]));
        assertErrno(Errno.EINVAL, () -> vcpu.setMpState(7));
        assertErrno(Errno.EINVAL, () -> vcpu.setMpState(KvmConstants.KVM_MP_STATE_SIPI_RECEIVED));
        byte[] state = vcpu.getLapic();
        assertEquals(KvmConstants.KVM_APIC_REG_SIZE, state.length);
        assertEquals(0x14, state[0x30]); // version register
        state[0x80] = 0x30; // TPR
        vcpu.setLapic(state);
        assertEquals(0x30, vcpu.getLapic()[0x80]);
        vcpu.setMpState(KvmConstants.KVM_MP_STATE_HALTED);
        assertEquals(KvmConstants.KVM_MP_STATE_HALTED, vcpu.getMpState());
      }
      vm.close();
      assertErrno(Errno.EBADF, () -> vm.irqLine(1, 1));
      assertErrno(Errno.EBADF, vm::createIrqchip);
    }
  }

  @Test
  void pit2Errors() {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      assertEquals(1, vm.checkExtension(KvmConstants.KVM_CAP_PIT2));
      assertErrno(Errno.ENOENT, vm::createPit2);
      vm.createIrqchip();
      vm.createPit2();
      assertErrno(Errno.EEXIST, vm::createPit2);
    }
  }

  @Test
  void pitTicksWakeAHaltingRealModeGuest() {
    try (Kvm kvm = Kvm.open();
        VmFd vm = kvm.createVm()) {
      vm.createIrqchip();
      vm.createPit2();
      try (TestVm t = new TestVm(vm)) {
        int at = loadPicInit(t, 0xfe); // IRQ 0 only
        t.load(
            at, 0xb0, 0x34, //            mov al, 0x34     counter 0, LSB then MSB, mode 2
            0xe6, 0x43, //                out 0x43, al
            0xb0, 0xa9, //                mov al, 0xa9     1193 = 0x04a9: 1 ms
            0xe6, 0x40, //                out 0x40, al
            0xb0, 0x04, //                mov al, 0x04
            0xe6, 0x40, //                out 0x40, al
            0xfb, //                loop: sti
            0xf4, //                      hlt              <- each tick wakes it
            0xfa, //                      cli              (no tick between cmp and mov)
            0x80, 0x3e, 0x00, 0x05, 0x05, // cmp byte [0x500], 5
            0x72, 0xf6, //                jb loop
            0xa0, 0x00, 0x05, //          mov al, [0x500]
            0xe6, 0x81); //               out 0x81, al
        t.load(
            0x1100, 0xfe, 0x06, 0x00, 0x05, // inc byte [0x500]
            0xb0, 0x20, //                     mov al, 0x20   OCW2: non-specific EOI
            0xe6, 0x20, //                     out 0x20, al
            0xcf); //                          iret
        t.load(8 * 4, 0x00, 0x11, 0x00, 0x00); // IVT[8] = 0000:1100
        t.realMode(0x1000);
        // No exit for the PIC, the PIT or the hlt: five ticks or more, then the guest reports. (One
        // more tick may come between the iret and the cli when the host is slow: 1 ms is short.)
        VcpuExit exit = run(t.vcpu);
        VcpuExit.IoOut out = assertInstanceOf(VcpuExit.IoOut.class, exit);
        assertEquals(0x81, out.port());
        assertTrue(out.data() >= 5, exit::toString);
      }
    }
  }

  @Test
  void picInterruptWakesHltAndReturnsAfterIt() {
    try (Chip c = Chip.create()) {
      TestVm t = c.t();
      int at = loadPicInit(t);
      t.load(
          at, 0xfb, //    sti
          0xf4, //        hlt          <- waits in the kernel side, no KVM_EXIT_HLT
          0xb0, 0x99, //  mov al, 0x99
          0xe6, 0x81); // out 0x81, al
      loadIrq1Handler(t);
      t.realMode(0x1000);
      // The PIC's ports are in the kernel: no exit before the hlt. Kick until the vCPU is halted
      // (a kick leaves it halted, and the next run() waits again).
      CompletableFuture<Void> kicker = CompletableFuture.completedFuture(null);
      while (true) {
        kicker = CompletableFuture.runAsync(() -> {}).thenRun(t.vcpu::kick);
        assertEquals(new VcpuExit.Intr(), run(t.vcpu));
        kicker.join();
        if (t.vcpu.getMpState() == KvmConstants.KVM_MP_STATE_HALTED) {
          break;
        }
      }
      assertEquals(at + 2, t.vcpu.getRegs().rip());
      CompletableFuture<Void> raiser =
          CompletableFuture.runAsync(
              () -> {
                c.vm().irqLine(1, 1);
                c.vm().irqLine(1, 0);
              });
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x42), run(t.vcpu)); // the handler
      raiser.join();
      assertEquals(KvmConstants.KVM_MP_STATE_RUNNABLE, t.vcpu.getMpState());
      assertEquals(at + 2, savedIp(t)); // the instruction after the hlt
      assertEquals(new VcpuExit.IoOut(0x81, 1, 0x99), run(t.vcpu)); // iret came back
    }
  }

  @Test
  void interruptWaitsForIfAndTheStiShadow() {
    try (Chip c = Chip.create()) {
      TestVm t = c.t();
      int at = loadPicInit(t);
      t.load(
          at, 0xe6, 0x83, // out 0x83, al     <- the test raises IRQ 1 here (IF=0)
          0x90, //           nop
          0x90, //           nop
          0xe6, 0x84, //     out 0x84, al     <- not delivered yet: IF=0
          0xfb, //           sti
          0x90, //           nop              <- in the STI shadow: still not delivered
          0xe6, 0x85); //    out 0x85, al     <- delivered before this one
      loadIrq1Handler(t);
      t.realMode(0x1000);
      assertEquals(new VcpuExit.IoOut(0x83, 1, 0xfd), run(t.vcpu));
      c.vm().irqLine(1, 1);
      c.vm().irqLine(1, 0);
      assertEquals(new VcpuExit.IoOut(0x84, 1, 0xfd), run(t.vcpu));
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x42), run(t.vcpu)); // the handler
      assertEquals(at + 8, savedIp(t)); // the out 0x85, after the shadowed nop
      assertEquals(new VcpuExit.IoOut(0x85, 1, 0x20), run(t.vcpu));
    }
  }

  @Test
  void interruptWaitsForTheMovSsShadow() {
    // Unicorn ends a block after OUT, so the interrupt is made deliverable by an MMIO write (TPR)
    // in the same block as the MOV SS.
    try (Chip c = Chip.create()) {
      TestVm t = c.t();
      t.load(
          0x2000, 0xc7, 0x05, 0xf0, 0x00, 0xe0, 0xfe, 0xff, 0x01, 0x00, 0x00, // mov [SPIV], 0x1ff
          0xc7, 0x05, 0x80, 0x00, 0xe0, 0xfe, 0x60, 0x00, 0x00, 0x00, // mov [TPR], 0x60
          0xc7, 0x05, 0x00, 0x00, 0xc0, 0xfe, 0x38, 0x00, 0x00, 0x00, // IOREGSEL: pin 20 low
          0xc7, 0x05, 0x10, 0x00, 0xc0, 0xfe, 0x50, 0x00, 0x00, 0x00, // IOWIN: 0x50, edge
          0xfb, //                                                       sti
          0xe6, 0x83, //                                                 out 0x83, al  <- GSI 20
          0xb8, 0x10, 0x00, 0x00, 0x00, //                               mov eax, 0x10
          0xc7, 0x05, 0x80, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00, // mov [TPR], 0
          0x8e, 0xd0, //                                                 mov ss, ax
          0x90, //                                                       nop  <- the shadow
          0xe6, 0x85); //                                                out 0x85, al
      t.load(
          0x2100, 0xe6, 0x80, //                                         out 0x80, al
          0xc7, 0x05, 0xb0, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00, // mov [EOI], 0
          0xcf); //                                                      iretd
      t.gate32(IDT, 0x50, 0x2100);
      t.protectedMode(0x2000, new KvmDtable(IDT, 256 * 8 - 1));
      assertEquals(new VcpuExit.IoOut(0x83, 1, 0), run(t.vcpu));
      c.vm().irqLine(20, 1); // IRR 0x50, held back by TPR 0x60
      c.vm().irqLine(20, 0);
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x10), run(t.vcpu)); // the handler
      long esp = t.vcpu.getRegs().rsp();
      assertEquals(0x203d, t.ram.get(ValueLayout.JAVA_INT, esp)); // the out 0x85, after the nop
      assertEquals(new VcpuExit.IoOut(0x85, 1, 0x10), run(t.vcpu));
    }
  }

  @Test
  void picInterruptNeedsTheVirtualWire() {
    try (Chip c = Chip.create()) {
      TestVm t = c.t();
      byte[] lapic = t.vcpu.getLapic();
      assertEquals(0x07, lapic[0x351]); // LVT0 of the BSP: ExtINT, unmasked (KVM's reset state)
      lapic[0x352] = 1; // LVT0 masked: the 8259 no longer reaches the CPU
      t.vcpu.setLapic(lapic);
      int at = loadPicInit(t);
      t.load(
          at, 0xfb, //       sti
          0xe6, 0x83, //     out 0x83, al     <- the test raises IRQ 1 here
          0x90, //           nop
          0xe6, 0x84); //    out 0x84, al     <- no handler ran in between
      loadIrq1Handler(t);
      t.realMode(0x1000);
      assertEquals(new VcpuExit.IoOut(0x83, 1, 0xfd), run(t.vcpu));
      c.vm().irqLine(1, 1);
      assertEquals(new VcpuExit.IoOut(0x84, 1, 0xfd), run(t.vcpu));
      lapic[0x352] = 0; // unmasked again: the waiting IRQ 1 goes through
      t.vcpu.setLapic(lapic);
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x42), run(t.vcpu));
    }
  }

  @Test
  void masterPicMaskedIrqIsNotDelivered() {
    try (Chip c = Chip.create()) {
      TestVm t = c.t();
      int at = loadPicInit(t);
      t.load(
          at, 0xfb, //       sti
          0xe6, 0x83, //     out 0x83, al     <- the test raises IRQ 3 (masked) here
          0x90, //           nop
          0xe6, 0x84); //    out 0x84, al     <- no handler ran in between
      loadIrq1Handler(t);
      t.realMode(0x1000);
      assertEquals(new VcpuExit.IoOut(0x83, 1, 0xfd), run(t.vcpu));
      c.vm().irqLine(3, 1);
      assertEquals(new VcpuExit.IoOut(0x84, 1, 0xfd), run(t.vcpu));
    }
  }

  @Test
  void lapicOneShotTimerWakesHltInProtectedMode() {
    try (Chip c = Chip.create()) {
      TestVm t = c.t();
      t.load(
          0x2000, 0xc7, 0x05, 0xf0, 0x00, 0xe0, 0xfe, 0xff, 0x01, 0x00, 0x00, // mov [SPIV], 0x1ff
          0xc7, 0x05, 0x20, 0x03, 0xe0, 0xfe, 0x40, 0x00, 0x00, 0x00, // mov [LVT timer], 0x40
          0xc7, 0x05, 0xe0, 0x03, 0xe0, 0xfe, 0x0b, 0x00, 0x00, 0x00, // mov [divide], 0xb (1)
          0xc7, 0x05, 0x80, 0x03, 0xe0, 0xfe, 0x40, 0x42, 0x0f, 0x00, // mov [initial], 1000000
          0xfb, //                                                       sti
          0xf4, //                                                       hlt
          0xb0, 0x99, //                                                 mov al, 0x99
          0xe6, 0x81); //                                                out 0x81, al
      t.load(
          0x2100, 0xb0, 0x40, //                                         mov al, 0x40
          0xe6, 0x80, //                                                 out 0x80, al
          0xc7, 0x05, 0xb0, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00, // mov [EOI], 0
          0xcf); //                                                      iretd
      t.gate32(IDT, 0x40, 0x2100);
      t.protectedMode(0x2000, new KvmDtable(IDT, 256 * 8 - 1));
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x40), run(t.vcpu)); // no KVM_EXIT_HLT first
      long esp = t.vcpu.getRegs().rsp();
      assertEquals(0x2000 + 42, t.ram.get(ValueLayout.JAVA_INT, esp)); // after the hlt
      assertEquals(0x08, t.ram.get(ValueLayout.JAVA_INT, esp + 4)); // CS
      assertEquals(0x8000 - 12, esp); // no error code
      assertEquals(1, t.vcpu.getLapic()[0x100 + 0x20] & 1); // ISR bit 0x40 while in the handler
      assertEquals(new VcpuExit.IoOut(0x81, 1, 0x99), run(t.vcpu));
      byte[] isr = new byte[4];
      System.arraycopy(t.vcpu.getLapic(), 0x120, isr, 0, 4);
      assertArrayEquals(new byte[4], isr); // the EOI cleared it
    }
  }

  @Test
  void ioapicRegistersAreServedInTheKernelAndRouteALevelLine() {
    try (Chip c = Chip.create()) {
      TestVm t = c.t();
      t.load(
          0x2000, 0xc7, 0x05, 0xf0, 0x00, 0xe0, 0xfe, 0xff, 0x01, 0x00, 0x00, // mov [SPIV], 0x1ff
          0xc7, 0x05, 0x00, 0x00, 0xc0, 0xfe, 0x01, 0x00, 0x00, 0x00, // mov [IOREGSEL], 1
          0xa1, 0x10, 0x00, 0xc0, 0xfe, //                               mov eax, [IOWIN]
          0xe7, 0x81, //                                                 out 0x81, eax
          0xc7, 0x05, 0x00, 0x00, 0xc0, 0xfe, 0x38, 0x00, 0x00, 0x00, // IOREGSEL: pin 20 low
          0xc7, 0x05, 0x10, 0x00, 0xc0, 0xfe, 0x50, 0x80, 0x00, 0x00, // IOWIN: 0x50, level
          0xfb, //                                                       sti
          0xf4, //                                                       hlt
          0xe6, 0x82); //                                                out 0x82, al
      t.load(
          0x2100, 0xe6, 0x80, //                                         out 0x80, al
          0xc7, 0x05, 0xb0, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00, // mov [EOI], 0
          0xcf); //                                                      iretd
      t.gate32(IDT, 0x50, 0x2100);
      t.protectedMode(0x2000, new KvmDtable(IDT, 256 * 8 - 1));
      assertEquals(new VcpuExit.IoOut(0x81, 4, 0x170011), run(t.vcpu)); // IOAPICVER, no MMIO exit
      c.vm().irqLine(20, 1);
      assertEquals(new VcpuExit.IoOut(0x80, 1, 0x11), run(t.vcpu));
      c.vm().irqLine(20, 1); // still high: Remote IRR holds it back until the EOI
      c.vm().irqLine(20, 0);
      assertEquals(new VcpuExit.IoOut(0x82, 1, 0x11), run(t.vcpu)); // the EOI re-sent nothing
    }
  }
}
