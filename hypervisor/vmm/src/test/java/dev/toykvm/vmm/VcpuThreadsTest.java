package dev.toykvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** One thread per vCPU; the first loop that ends the VM ends the others and is the outcome. */
@Timeout(30)
class VcpuThreadsTest {
  @Test
  void theFirstOutcomeWinsAndEndsTheOthers() {
    CountDownLatch over = new CountDownLatch(1);
    AtomicInteger ends = new AtomicInteger();
    Set<String> threads = ConcurrentHashMap.newKeySet();
    VmOutcome exit = new VmOutcome.GuestExited(7);
    VmOutcome result =
        VcpuThreads.run(
            4,
            i -> {
              threads.add(Thread.currentThread().getName());
              if (i == 2) {
                return exit;
              }
              try {
                // Until endOthers runs, as a kicked run() returns.
                over.await(20, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              return null;
            },
            () -> {
              ends.incrementAndGet();
              over.countDown();
            });
    assertSame(exit, result);
    assertEquals(1, ends.get(), "endOthers once");
    assertEquals(4, threads.size(), "a thread per vCPU: " + threads);
  }

  @Test
  void aLoopThatThrowsEndsTheVmWithItsException() {
    CountDownLatch over = new CountDownLatch(1);
    IllegalStateException boom = new IllegalStateException("boom");
    IllegalStateException thrown =
        assertThrows(
            IllegalStateException.class,
            () ->
                VcpuThreads.run(
                    2,
                    i -> {
                      if (i == 1) {
                        throw boom;
                      }
                      try {
                        over.await(20, TimeUnit.SECONDS);
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                      return null;
                    },
                    over::countDown));
    assertSame(boom, thrown);
  }
}
