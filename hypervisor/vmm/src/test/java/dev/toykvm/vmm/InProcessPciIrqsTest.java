package dev.toykvm.vmm;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.posix.Eventfd;
import dev.toykvm.posix.Poll;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An in-process PCI model's interrupts: vector eventfds written by {@code msix}, INTx with KVM's
 * resample contract kept by the watcher thread, and nothing left after close.
 */
@Timeout(30)
class InProcessPciIrqsTest {

  private static boolean readable(int fd) {
    return Poll.poll(fd, 0).revents() != 0;
  }

  @Test
  void vectorsAndIntxReachTheirEventfdsAndAResampleAssertsAgain() {
    InProcessPciIrqs irqs = InProcessPciIrqs.start("nvme", List.of(24, 25), 11);
    try {
      assertEquals(2, irqs.vectors().size());
      irqs.interrupts().msix(1);
      assertTrue(readable(irqs.vectors().get(1).fd()), "vector 1's eventfd");
      assertFalse(readable(irqs.vectors().get(0).fd()));

      int intx = irqs.intx().fd();
      irqs.interrupts().intx(true);
      assertEquals(1, Eventfd.drain(intx), "asserted once");
      irqs.interrupts().intx(true);
      assertFalse(readable(intx), "still asserted: no second write");
      // The guest's EOI: the kernel side deasserts and signals the resamplefd; the line is still
      // high, so the watcher asserts again.
      Eventfd.signal(irqs.intx().resampleFd());
      await().atMost(Duration.ofSeconds(10)).until(() -> readable(intx));
      assertEquals(1, Eventfd.drain(intx));
      irqs.interrupts().intx(false);
      Eventfd.signal(irqs.intx().resampleFd());
      await().atMost(Duration.ofSeconds(10)).until(() -> !readable(irqs.intx().resampleFd()));
      assertFalse(readable(intx), "low: not asserted again");
    } finally {
      irqs.close();
    }
  }
}
