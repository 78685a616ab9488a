package dev.toykvm.vmm.pci;

import static dev.toykvm.kvm.KvmConstants.X86_CR0_PE;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmSegment;
import dev.toykvm.kvm.KvmSregs;
import dev.toykvm.kvm.KvmUserspaceMemoryRegion;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Fds;
import dev.toykvm.posix.Poll;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * INTx on the real kernel side, with a 32-bit guest that masks the PICs and programs I/O APIC pins
 * 10 and 11 level-triggered (vectors 0x5a and 0x5b) and waits in {@code sti; hlt}; each handler
 * reports on port 0x80, sends the local APIC its EOI (which the I/O APIC's level entry turns into a
 * resample) and reports on port 0x81. The function is 00:03.0 with INTA#, so it drives PIRQD.
 */
@Timeout(60)
class IntxKernelTest {
  private static final int MAIN = 0x2000;
  private static final int HANDLERS = 0x2400;
  private static final long IDT = 0x3000;
  private static final long GDT = 0x4000;
  private static final int LEVEL_TRIGGERED = 1 << 15;
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final ScheduledExecutorService WATCHDOG =
      Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().unstarted(r));

  private final Arena arena = Arena.ofShared();
  private final MemorySegment ram = arena.allocate(1 << 20, 4096);
  private final Kvm kvm = Kvm.open();
  private final VmFd vm = kvm.createVm();
  private final int level = Eventfd.create();
  private final int resample = Eventfd.create();
  private final IsaBridge isa = new IsaBridge();
  private VcpuFd vcpu;

  @AfterEach
  void close() {
    vm.close();
    kvm.close();
    arena.close();
    Fds.close(level);
    Fds.close(resample);
  }

  private void load(long at, List<Integer> code) {
    for (int i = 0; i < code.size(); i++) {
      ram.set(ValueLayout.JAVA_BYTE, at + i, code.get(i).byteValue());
    }
  }

  /** {@code mov dword [address], value}. */
  private static void mov(List<Integer> code, long address, int value) {
    code.addAll(List.of(0xc7, 0x05));
    for (int i = 0; i < 4; i++) {
      code.add((int) (address >>> (8 * i)) & 0xff);
    }
    for (int i = 0; i < 4; i++) {
      code.add((value >>> (8 * i)) & 0xff);
    }
  }

  private void handler(int vector, int at) {
    List<Integer> code = new ArrayList<>(List.of(0xb0, vector, 0xe6, 0x80)); // mov al, V; out 0x80
    mov(code, 0xfee000b0L, 0); // EOI
    code.addAll(List.of(0xe6, 0x81, 0xcf)); // out 0x81, al; iretd
    load(at, code);
    long gate = (at & 0xffff) | 0x08L << 16 | 0x8eL << 40 | ((long) (at >>> 16) & 0xffff) << 48;
    ram.set(ValueLayout.JAVA_LONG, IDT + vector * 8L, gate);
  }

  private void startGuest() {
    vm.setUserMemoryRegion(new KvmUserspaceMemoryRegion(0, 0, 0, ram.byteSize(), ram));
    vm.createIrqchip();
    vcpu = vm.createVcpu(0);
    ram.set(ValueLayout.JAVA_LONG, GDT + 0x08, 0x00cf_9b00_0000_ffffL); // flat 32-bit code
    ram.set(ValueLayout.JAVA_LONG, GDT + 0x10, 0x00cf_9300_0000_ffffL); // flat data
    // The PICs, which GSIs 10 and 11 also reach: initialised and wholly masked, IRQs 10 and 11
    // level-triggered (as firmware leaves them for PCI), so only the I/O APIC delivers.
    List<Integer> code =
        new ArrayList<>(
            List.of(
                0xb0, 0x11, 0xe6, 0x20, 0xe6, 0xa0, // ICW1 to both
                0xb0, 0x20, 0xe6, 0x21, // master ICW2: vectors 0x20-0x27
                0xb0, 0x28, 0xe6, 0xa1, // slave ICW2: vectors 0x28-0x2f
                0xb0, 0x04, 0xe6, 0x21, // master ICW3
                0xb0, 0x02, 0xe6, 0xa1, // slave ICW3
                0xb0, 0x01, 0xe6, 0x21, 0xe6, 0xa1, // ICW4: 8086 mode
                0xb0, 0xff, 0xe6, 0x21, 0xe6, 0xa1, // OCW1: everything masked
                0xb0, 0x0c, 0x66, 0xba, 0xd1, 0x04, 0xee)); // ELCR2: IRQs 10, 11 level
    mov(code, 0xfee000f0L, 0x1ff); // SPIV: software-enabled
    mov(code, 0xfec00000L, 0x10 + 2 * 10); // IOREGSEL: pin 10's low dword
    mov(code, 0xfec00010L, LEVEL_TRIGGERED | 0x5a); // IOWIN
    mov(code, 0xfec00000L, 0x10 + 2 * 11);
    mov(code, 0xfec00010L, LEVEL_TRIGGERED | 0x5b);
    code.addAll(List.of(0xfb, 0xf4, 0xeb, 0xfc)); // loop: sti; hlt; jmp loop
    load(MAIN, code);
    handler(0x5a, HANDLERS);
    handler(0x5b, HANDLERS + 0x40);
    KvmSregs s = vcpu.getSregs();
    vcpu.setSregs(
        s.withCs(KvmSegment.flat32(0x8, true))
            .withDataSegments(KvmSegment.flat32(0x10, false))
            .withTables(new KvmDtable(GDT, 3 * 8 - 1), new KvmDtable(IDT, 256 * 8 - 1))
            .withControl(X86_CR0_PE, 0, 0, 0));
    vcpu.setRegs(vcpu.getRegs().withRip(MAIN).withRsp(0x8000).withRflags(2));
    runUntilHalted();
  }

  /** {@code run()}, kicked after 10 s so that a guest left waiting fails the test (Intr). */
  private VcpuExit run() {
    ScheduledFuture<?> dog = WATCHDOG.schedule(vcpu::kick, 10, TimeUnit.SECONDS);
    try {
      return vcpu.run();
    } finally {
      dog.cancel(false);
    }
  }

  /** Runs (kicking it out each time) until the vCPU waits in {@code hlt}, with no exit. */
  private void runUntilHalted() {
    while (true) {
      CompletableFuture<Void> kicker = CompletableFuture.runAsync(() -> {}).thenRun(vcpu::kick);
      assertEquals(new VcpuExit.Intr(), run());
      kicker.join();
      if (vcpu.getMpState() == KvmConstants.KVM_MP_STATE_HALTED) {
        return;
      }
    }
  }

  /** The handler of {@code vector} runs; its EOI resamples the line. */
  private void handled(int vector) {
    assertEquals(new VcpuExit.IoOut(0x80, 1, vector), run());
    assertFalse(readable(resample), "not resampled before the EOI");
    assertEquals(new VcpuExit.IoOut(0x81, 1, vector), run());
    await().atMost(WAIT).until(() -> readable(resample));
    Eventfd.drain(resample);
    runUntilHalted();
  }

  private static boolean readable(int fd) {
    return Poll.poll(fd, 0).readable();
  }

  private void pirqD(int value) {
    isa.writeConfig(IsaBridge.PIRQ_ROUTE + 3, 1, value);
  }

  @Test
  void theLevelLineIsResampledAndRaisedAgainFollowingThePirqRoute() {
    startGuest();
    pirqD(10);
    GsiTable gsis = new GsiTable(vm, true);
    try (IntxRoute route = new IntxRoute("fake", vm, gsis, isa, 3, 1, level, resample)) {
      Eventfd.signal(level);
      handled(0x5a);
      Eventfd.signal(level); // still needs service after the resample: raised again
      handled(0x5a);

      pirqD(11); // the guest moves PIRQD: the irqfd follows
      assertEquals(11, route.gsi().orElseThrow());
      Eventfd.signal(level);
      handled(0x5b);

      pirqD(0x80 | 11); // disabled: nothing registered, the signal stays in the eventfd
      Eventfd.signal(level);
      assertTrue(readable(level));
      pirqD(10); // routed again: the held signal raises IRQ 10 at once
      handled(0x5a);
    }
  }
}
