package dev.toykvm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.vmm.ExitCodes;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Boots real images from test-images through the command line, in-process, on the real kernel side.
 */
@Tag("e2e")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EndToEndTest {

  @Test
  void helloPrintsAndExitsWithZero() {
    MainTest.Result r = MainTest.toykvm("run", "--timeout", "60s", "hello");
    assertTrue(
        r.out().contains("Hello from long mode"), "stdout: " + r.out() + "\nstderr: " + r.err());
    assertEquals(0, r.status(), r.err());
  }

  @Test
  void helloWithTraceShowsTheSerialWrites() {
    // COM1 in the VMM, so its accesses are VM exits (over ioregionfd they are kernel tracepoints,
    // which DeviceEndToEndTest checks).
    MainTest.Result r =
        MainTest.toykvm(
            "run", "--trace", "--com1-route", "in-process", "--timeout", "60s", "hello");
    assertEquals(0, r.status(), r.err());
    assertTrue(r.err().contains("[vcpu0] IO out port=0x3f8 size=1 data=0x48"), r.err());
    assertTrue(r.err().contains("[vcpu0] IO out port=0xf4 size=1 data=0x0"), r.err());
  }

  @Test
  void tripleFaultGivesTheShutdownStatusAndAClearMessage() {
    MainTest.Result r = MainTest.toykvm("run", "--timeout", "60s", "triple-fault");
    assertEquals(ExitCodes.TRIPLE_FAULT, r.status(), "stderr: " + r.err());
    assertTrue(r.err().contains("toykvm: guest triple-faulted"), r.err());
    assertTrue(!r.err().contains("Exception"), r.err());
  }

  @Test
  void imagesListsHelloWithADescription() {
    MainTest.Result r = MainTest.toykvm("images");
    assertEquals(0, r.status(), r.err());
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith("hello ")), r.out());
  }
}
