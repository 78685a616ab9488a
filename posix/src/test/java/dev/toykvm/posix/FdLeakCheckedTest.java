package dev.toykvm.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;

/**
 * What the tests of this package share: each test must leave as many fds open as it found, and has
 * a 4 KiB native buffer with ASCII helpers.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
abstract class FdLeakCheckedTest {
  private final Arena arena = Arena.ofConfined();
  final MemorySegment buf = arena.allocate(4096);
  private int fdsBefore;

  static int openFds() {
    return Objects.requireNonNull(new File("/proc/self/fd").list()).length;
  }

  @BeforeEach
  void countFds() {
    fdsBefore = openFds();
  }

  @AfterEach
  void noFdLeaked() {
    arena.close();
    assertEquals(fdsBefore, openFds(), "fds open after the test vs before");
  }

  void put(String s) {
    buf.copyFrom(MemorySegment.ofArray(s.getBytes(StandardCharsets.US_ASCII)));
  }

  String got(long n) {
    return new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII);
  }
}
