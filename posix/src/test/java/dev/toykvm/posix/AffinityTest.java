package dev.toykvm.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class AffinityTest {

  @Test
  void parsesKernelCpuLists() {
    assertEquals(List.of(0, 1), Affinity.parseList("0-1"));
    assertEquals(List.of(0, 2, 3, 4, 7), Affinity.parseList("0,2-4,7"));
    assertEquals(0b1001_1101L, Affinity.mask(Affinity.parseList("0,2-4,7")));
  }

  @Test
  void refusesCpusPast63() {
    assertThrows(IllegalArgumentException.class, () -> Affinity.cpu(64));
  }

  @Test
  void pinsAThreadAndReadsItBack() throws InterruptedException {
    List<Integer> cpus = Affinity.allowedCpus();
    int last = cpus.getLast();
    String[] seen = new String[1];
    Thread t =
        Thread.ofPlatform()
            .name("affinity-probe")
            .start(
                () -> {
                  Affinity.pinThisThread(Affinity.cpu(last));
                  seen[0] = Affinity.threadPlace(Processes.getpid(), "affinity-probe");
                });
    t.join();
    assertEquals(true, seen[0].endsWith("CPU " + last), seen[0]);
    assertFalse(Affinity.summary(Processes.getpid()).isEmpty());
  }
}
