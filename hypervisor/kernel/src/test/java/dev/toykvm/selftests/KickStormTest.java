package dev.toykvm.selftests;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.kvm.VcpuExit;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Kicks are never lost, now that a translation block calls into Java only when its native gate is
 * raised: a storm of kicks from another thread against a guest in a tight loop, each kick answered
 * by a {@code KVM_EXIT_INTR}, and the guest's own count exact afterwards.
 */
class KickStormTest {
  private static final int KICKS = 1000;

  @Test
  void everyKickOfAStormEndsARunWithIntr() throws Exception {
    try (TestVm t = new TestVm()) {
      // 1: inc dword [0x2000]; add eax, 1; jmp 1b (a store and a register op per iteration)
      t.load(0x1000, 0x66, 0xff, 0x06, 0x00, 0x20, 0x66, 0x83, 0xc0, 0x01, 0xeb, 0xf5);
      t.realMode(0x1000);
      AtomicLong intrs = new AtomicLong();
      AtomicBoolean done = new AtomicBoolean();
      CompletableFuture<VcpuExit> runner =
          CompletableFuture.supplyAsync(
              () -> {
                while (true) {
                  VcpuExit exit = t.vcpu.run();
                  if (!(exit instanceof VcpuExit.Intr)) {
                    return exit;
                  }
                  intrs.incrementAndGet();
                  if (done.get()) {
                    return exit;
                  }
                }
              },
              r -> Thread.ofPlatform().daemon().name("test-run").start(r));
      for (int i = 0; i < KICKS; i++) {
        long before = intrs.get();
        t.vcpu.kick();
        await("kick " + i + " answered by KVM_EXIT_INTR")
            .atMost(30, TimeUnit.SECONDS)
            .pollInterval(1, TimeUnit.MILLISECONDS)
            .until(() -> intrs.get() > before);
      }
      done.set(true);
      t.vcpu.kick();
      assertInstanceOf(VcpuExit.Intr.class, runner.get(30, TimeUnit.SECONDS));
      assertTrue(intrs.get() >= KICKS, "every kick ended a run: " + intrs.get());
      // Each iteration does both increments once: no instruction ran twice across the stops.
      long eax = t.vcpu.getRegs().rax() & 0xffff_ffffL;
      long count = t.ram.get(ValueLayout.JAVA_INT, 0x2000) & 0xffff_ffffL;
      long rip = t.vcpu.getRegs().rip();
      long expected = rip == 0x1005 ? eax + 1 : eax; // stopped between the two increments
      assertEquals(expected & 0xffff, count & 0xffff, "the store's count matches the register's");
    }
  }
}
