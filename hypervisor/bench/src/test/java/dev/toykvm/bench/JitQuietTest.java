package dev.toykvm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class JitQuietTest {
  @Test
  void countsOnlyCompilerThreadsUserAndSystemTicks() {
    String c2 = "4870 (C2 CompilerThre) S 1 2 3 4 5 6 7 8 9 10 1424 90 0 0 20 0 1 0";
    String c1 = "4871 (C1 CompilerThre) R 1 2 3 4 5 6 7 8 9 10 62 3 0 0 20 0 1 0";
    String engine = "4966 (vcpu0-engine) R 1 2 3 4 5 6 7 8 9 10 889 7 0 0 20 0 1 0";
    String spaced = "5985 (stderr of pid 5) S 1 2 3 4 5 6 7 8 9 10 500 5 0 0 20 0 1 0";
    assertEquals(1514, JitQuiet.compilerTicks(c2));
    assertEquals(65, JitQuiet.compilerTicks(c1));
    assertEquals(0, JitQuiet.compilerTicks(engine));
    assertEquals(0, JitQuiet.compilerTicks(spaced));
    assertEquals(0, JitQuiet.compilerTicks("garbage"));
  }

  @Test
  void thisJvmHasCompilerThreadsAndTheWaitEnds() {
    assertTrue(JitQuiet.compilerTicks() >= 0, "/proc/self/task is readable on Linux");
    List<String> said = new ArrayList<>();
    long waited = JitQuiet.await(2_000, said::add);
    assertTrue(waited <= 2_000 + 2 * JitQuiet.WINDOW_MS, "bounded: " + waited + " ms");
  }
}
