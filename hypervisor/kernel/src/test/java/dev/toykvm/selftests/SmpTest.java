package dev.toykvm.selftests;

import static dev.toykvm.kvm.KvmConstants.KVM_MP_STATE_INIT_RECEIVED;
import static dev.toykvm.kvm.KvmConstants.KVM_MP_STATE_RUNNABLE;
import static dev.toykvm.kvm.KvmConstants.KVM_MP_STATE_UNINITIALIZED;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.kvm.KvmDtable;
import dev.toykvm.kvm.KvmSregs;
import dev.toykvm.kvm.VcpuExit;
import dev.toykvm.kvm.VcpuFd;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * SMP in the kernel side: lock-prefixed instructions stay atomic across vCPUs (the guest turn),
 * application processors start with INIT and SIPI through the BSP's ICR, and an INIT resets a
 * running AP; the MP states along the way.
 */
@Timeout(60)
class SmpTest {
  private static final ScheduledExecutorService WATCHDOG =
      Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().unstarted(r));

  /**
   * {@code run()}, kicked after 20 s so that a guest that waits forever fails instead of hanging.
   */
  static VcpuExit run(VcpuFd vcpu) {
    ScheduledFuture<?> dog = WATCHDOG.schedule(vcpu::kick, 20, TimeUnit.SECONDS);
    try {
      return vcpu.run();
    } finally {
      dog.cancel(false);
    }
  }

  /** A run() that only processes what is pending (INIT, SIPI) and comes back with Intr. */
  static VcpuExit poke(VcpuFd vcpu) {
    vcpu.kick();
    return vcpu.run();
  }

  /**
   * 32-bit code at 0x2000 that copies [0x600] to ICR high and [0x604] to ICR low, reads ICR low
   * back into EAX, reports it with {@code out 0x81, eax} and starts over.
   */
  static void loadIcrWriter(SmpVm s) {
    s.load(
        0x2000, 0xa1, 0x00, 0x06, 0x00, 0x00, // mov eax, [0x600]
        0xa3, 0x10, 0x03, 0xe0, 0xfe, //         mov [0xfee00310], eax   ICR high
        0xa1, 0x04, 0x06, 0x00, 0x00, //         mov eax, [0x604]
        0xa3, 0x00, 0x03, 0xe0, 0xfe, //         mov [0xfee00300], eax   ICR low: send
        0xa1, 0x00, 0x03, 0xe0, 0xfe, //         mov eax, [0xfee00300]
        0xe7, 0x81, //                           out 0x81, eax
        0xeb, 0xe3); //                          jmp 0x2000
  }

  /** The BSP (vCPU 0) writes ICR high then low, and comes back; returns ICR low read back. */
  static long sendIpi(SmpVm s, int high, int low) {
    s.write32(0x600, high);
    s.write32(0x604, low);
    VcpuExit.IoOut out = (VcpuExit.IoOut) run(s.vcpu(0));
    assertEquals(0x81, out.port());
    return out.data();
  }

  @Test
  void lockedInstructionsAreAtomicAcrossVcpus() throws Exception {
    int n = 200_000;
    try (SmpVm s = new SmpVm(2, false)) {
      // Each vCPU: n times lock inc [0x500], lock xadd [0x504], and an xchg spinlock at 0x50c
      // around a plain inc [0x508]; then out 0x80.
      s.load(
          0x1000,
          0xb9,
          n & 0xff,
          (n >>> 8) & 0xff,
          (n >>> 16) & 0xff,
          0, // mov ecx, n
          0xf0,
          0xff,
          0x05,
          0x00,
          0x05,
          0x00,
          0x00, //       loop: lock inc dword [0x500]
          0xb8,
          0x01,
          0x00,
          0x00,
          0x00, //                   mov eax, 1
          0xf0,
          0x0f,
          0xc1,
          0x05,
          0x04,
          0x05,
          0x00,
          0x00, // lock xadd [0x504], eax
          0xb8,
          0x01,
          0x00,
          0x00,
          0x00, //             spin: mov eax, 1
          0x87,
          0x05,
          0x0c,
          0x05,
          0x00,
          0x00, //             xchg eax, [0x50c]
          0x85,
          0xc0, //                                     test eax, eax
          0x75,
          0xf2, //                                     jnz spin
          0xff,
          0x05,
          0x08,
          0x05,
          0x00,
          0x00, //             inc dword [0x508]
          0xc7,
          0x05,
          0x0c,
          0x05,
          0x00,
          0x00,
          0,
          0,
          0,
          0, // mov dword [0x50c], 0
          0x49, //                                           dec ecx
          0x75,
          0xca, //                                     jnz loop
          0xe6,
          0x80); //                                    out 0x80, al
      for (int i = 0; i < 2; i++) {
        s.protectedMode(i, 0x1000, 0x8000 + i * 0x1000, new KvmDtable(0, 0), 2);
      }
      List<CompletableFuture<VcpuExit>> runs = new ArrayList<>();
      for (VcpuFd v : s.vcpus) {
        runs.add(CompletableFuture.supplyAsync(() -> run(v), r -> Thread.ofPlatform().start(r)));
      }
      for (CompletableFuture<VcpuExit> r : runs) {
        assertEquals(0x80, ((VcpuExit.IoOut) r.get()).port());
      }
      assertEquals(2 * n, s.read32(0x500), "lock inc");
      assertEquals(2 * n, s.read32(0x504), "lock xadd");
      assertEquals(2 * n, s.read32(0x508), "xchg spinlock");
    }
  }

  @Test
  void initSipiStartsAnApAndInitResetsARunningOne() {
    try (SmpVm s = new SmpVm(2, true)) {
      loadIcrWriter(s);
      s.protectedMode(0, 0x2000, 0x7000, new KvmDtable(0, 0), 2);
      s.load(0x8000, 0x8c, 0xc8, 0xe7, 0x90); // AP at 0x8000: mov ax, cs; out 0x90, ax
      s.load(0x9000, 0x8c, 0xc8, 0xe7, 0x91); // at 0x9000:     mov ax, cs; out 0x91, ax
      VcpuFd bsp = s.vcpu(0);
      VcpuFd ap = s.vcpu(1);
      assertEquals(KVM_MP_STATE_RUNNABLE, bsp.getMpState());
      assertEquals(KVM_MP_STATE_UNINITIALIZED, ap.getMpState());
      assertEquals(new VcpuExit.Intr(), poke(ap)); // waits for INIT: only a kick ends run()
      assertEquals(KVM_MP_STATE_UNINITIALIZED, ap.getMpState());

      sendIpi(s, 0x0100_0000, 0x0000_4608); // a SIPI before any INIT is dropped
      assertEquals(new VcpuExit.Intr(), poke(ap));
      assertEquals(KVM_MP_STATE_UNINITIALIZED, ap.getMpState());

      long icr = sendIpi(s, 0x0100_0000, 0x0000_4500); // INIT, physical, APIC ID 1
      assertEquals(0, icr & (1 << 12), "delivery status idle after the send");
      assertEquals(new VcpuExit.Intr(), poke(ap));
      assertEquals(KVM_MP_STATE_INIT_RECEIVED, ap.getMpState());

      sendIpi(s, 0x0100_0000, 0x0000_4608); // SIPI, vector 8: CS 0x0800, base 0x8000
      assertEquals(new VcpuExit.IoOut(0x90, 2, 0x0800), run(ap));
      assertEquals(KVM_MP_STATE_RUNNABLE, ap.getMpState());
      KvmSregs sregs = ap.getSregs();
      assertEquals(0x8000, sregs.cs().base());
      assertEquals(0x0800, sregs.cs().selector());
      assertEquals(0, sregs.cr0() & 1, "real mode");

      sendIpi(s, 0, 0x000c_4500); // INIT to all excluding self: the running AP
      assertEquals(new VcpuExit.Intr(), poke(ap)); // completes the out; the kick comes first
      assertEquals(new VcpuExit.Intr(), poke(ap)); // takes the INIT, waits for SIPI
      assertEquals(KVM_MP_STATE_INIT_RECEIVED, ap.getMpState());
      assertEquals(0xffff_0000L, ap.getSregs().cs().base()); // the INIT state, not running
      assertEquals(0xfff0, ap.getRegs().rip());
      assertEquals(KVM_MP_STATE_RUNNABLE, bsp.getMpState()); // excluding self

      sendIpi(s, 0, 0x000c_4609); // SIPI to all excluding self, vector 9
      assertEquals(new VcpuExit.IoOut(0x91, 2, 0x0900), run(ap));
    }
  }

  @Test
  void anApWaitingInRunIsStartedFromAnotherThreadAndKicked() throws Exception {
    try (SmpVm s = new SmpVm(2, true)) {
      loadIcrWriter(s);
      s.protectedMode(0, 0x2000, 0x7000, new KvmDtable(0, 0), 2);
      s.load(0x8000, 0x8c, 0xc8, 0xe7, 0x90); // mov ax, cs; out 0x90, ax
      VcpuFd ap = s.vcpu(1);
      // A kick ends the wait for INIT of a run() in progress (or, if it comes first, the next).
      CompletableFuture<VcpuExit> waiting =
          CompletableFuture.supplyAsync(() -> run(ap), r -> Thread.ofPlatform().start(r));
      ap.kick();
      assertEquals(new VcpuExit.Intr(), waiting.get(30, TimeUnit.SECONDS));
      // INIT and SIPI reach a run() that waits in the kernel side.
      CompletableFuture<VcpuExit> started =
          CompletableFuture.supplyAsync(() -> run(ap), r -> Thread.ofPlatform().start(r));
      sendIpi(s, 0x0100_0000, 0x0000_4500);
      sendIpi(s, 0x0100_0000, 0x0000_4608);
      assertEquals(new VcpuExit.IoOut(0x90, 2, 0x0800), started.get(30, TimeUnit.SECONDS));
    }
  }
}
