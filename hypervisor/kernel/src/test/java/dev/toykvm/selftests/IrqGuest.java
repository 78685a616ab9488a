package dev.toykvm.selftests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.kvm.Kvm;
import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A VM with an irqchip and a 32-bit protected-mode guest that waits for interrupts in a {@code sti;
 * hlt} loop, with an IDT whose handlers report each run: the shared setup of the irqfd, MSI and
 * routing selftests.
 *
 * <p>The guest's main code at 0x2000 software-enables its local APIC, programs the I/O APIC pins it
 * is given, then loops in {@code sti; hlt; jmp}. The handler of vector V ({@link #handler}): {@code
 * mov al, V; out 0x80, al} (an exit: "handler V entered"), EOI to the local APIC, {@code out 0x81,
 * al} (an exit: "EOI done"), {@code iretd}.
 */
final class IrqGuest implements AutoCloseable {
  static final long IDT = 0x3000;
  static final int MAIN = 0x2000;
  static final int HANDLERS = 0x2400;

  /** Where the {@code hlt} loop starts once the pins are programmed (see {@link #loopAddress}). */
  int loop;

  final Kvm kvm;
  final VmFd vm;
  final TestVm t;
  private int nextHandler = HANDLERS;

  private static final ScheduledExecutorService WATCHDOG =
      Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().unstarted(r));

  private IrqGuest(Kvm kvm, VmFd vm) {
    this.kvm = kvm;
    this.vm = vm;
    this.t = new TestVm(vm);
  }

  /**
   * A VM with an irqchip and the guest, its pins programmed with {@code entries} (pin, low dword).
   */
  static IrqGuest create(int... pinsAndEntries) {
    Kvm kvm = Kvm.open();
    VmFd vm = kvm.createVm();
    vm.createIrqchip();
    IrqGuest g = new IrqGuest(kvm, vm);
    g.loadMain(pinsAndEntries);
    return g;
  }

  private void loadMain(int... pinsAndEntries) {
    List<Integer> code = new ArrayList<>();
    mov(code, 0xfee000f0L, 0x1ff); // SPIV: software-enabled
    for (int i = 0; i < pinsAndEntries.length; i += 2) {
      mov(code, 0xfec00000L, 0x10 + 2 * pinsAndEntries[i]); // IOREGSEL: the pin's low dword
      mov(code, 0xfec00010L, pinsAndEntries[i + 1]); // IOWIN
    }
    loop = MAIN + code.size();
    code.addAll(List.of(0xfb, 0xf4, 0xeb, 0xfc)); // loop: sti; hlt; jmp loop
    t.load(MAIN, code.stream().mapToInt(Integer::intValue).toArray());
    t.protectedMode(MAIN, new KvmDtable(IDT, 256 * 8 - 1));
  }

  /** {@code mov dword [address], value}. */
  static void mov(List<Integer> code, long address, int value) {
    code.addAll(List.of(0xc7, 0x05));
    for (int i = 0; i < 4; i++) {
      code.add((int) (address >>> (8 * i)) & 0xff);
    }
    for (int i = 0; i < 4; i++) {
      code.add((value >>> (8 * i)) & 0xff);
    }
  }

  /** The reporting handler of {@code vector}, in the IDT. */
  IrqGuest handler(int vector) {
    List<Integer> code = new ArrayList<>(List.of(0xb0, vector, 0xe6, 0x80)); // mov al, V; out 0x80
    mov(code, 0xfee000b0L, 0); // EOI
    code.addAll(List.of(0xe6, 0x81, 0xcf)); // out 0x81, al; iretd
    return handler(vector, code);
  }

  /** A handler of {@code vector} with the given code, in the IDT. */
  IrqGuest handler(int vector, List<Integer> code) {
    t.load(nextHandler, code.stream().mapToInt(Integer::intValue).toArray());
    t.gate32(IDT, vector, nextHandler);
    nextHandler += 0x40;
    return this;
  }

  /** {@code run()}, kicked after 10 s so that a guest left waiting fails the test (Intr). */
  VcpuExit run() {
    return run(t.vcpu);
  }

  static VcpuExit run(VcpuFd vcpu) {
    ScheduledFuture<?> dog = WATCHDOG.schedule(vcpu::kick, 10, TimeUnit.SECONDS);
    try {
      return vcpu.run();
    } finally {
      dog.cancel(false);
    }
  }

  /** Runs (kicking it out each time) until the vCPU waits in {@code hlt}, with no exit. */
  void runUntilHalted() {
    runUntilHalted(t.vcpu);
  }

  static void runUntilHalted(VcpuFd vcpu) {
    while (true) {
      CompletableFuture<Void> kicker = CompletableFuture.runAsync(() -> {}).thenRun(vcpu::kick);
      assertEquals(new VcpuExit.Intr(), run(vcpu));
      kicker.join();
      if (vcpu.getMpState() == KvmConstants.KVM_MP_STATE_HALTED) {
        return;
      }
    }
  }

  /** The EIP the interrupt pushed (the handler has not pushed anything). */
  int savedEip() {
    return t.ram.get(ValueLayout.JAVA_INT, t.vcpu.getRegs().rsp());
  }

  /** The address after the {@code hlt}, where an interrupt that woke it returns. */
  int afterHlt() {
    return loop + 2;
  }

  /** Sets local APIC register {@code offset} (a 32-bit value) through KVM_SET_LAPIC. */
  void setLapicRegister(int offset, int value) {
    byte[] state = t.vcpu.getLapic();
    for (int i = 0; i < 4; i++) {
      state[offset + i] = (byte) (value >>> (8 * i));
    }
    t.vcpu.setLapic(state);
  }

  @Override
  public void close() {
    t.close();
    vm.close();
    kvm.close();
  }
}
