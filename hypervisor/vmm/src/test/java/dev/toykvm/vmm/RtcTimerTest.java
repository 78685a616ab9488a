package dev.toykvm.vmm;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.toykvm.devices.pc.CmosRtc;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The RTC's timer thread raises IRQ 8 on the host clock, and stops when closed. */
class RtcTimerTest {
  @Test
  void aPeriodicInterruptIsRaisedWithoutAnyGuestAccess() {
    List<String> irqs = new CopyOnWriteArrayList<>();
    Clock clock = Clock.systemUTC();
    CmosRtc rtc =
        new CmosRtc(clock, 64 << 20, 0, 1, (line, level) -> irqs.add(line + (level ? "+" : "-")));
    try (RtcTimer timer = new RtcTimer(rtc, clock)) {
      rtc.write(CmosRtc.INDEX, 1, CmosRtc.REG_B);
      rtc.write(CmosRtc.DATA, 1, CmosRtc.REG_B_DEFAULT | CmosRtc.B_PIE); // 1024 Hz
      await().atMost(Duration.ofSeconds(10)).until(() -> irqs.contains("8+"));
      rtc.write(CmosRtc.INDEX, 1, CmosRtc.REG_C);
      rtc.read(CmosRtc.DATA, 1); // acknowledges: the line falls, the next period raises it again
      await().atMost(Duration.ofSeconds(10)).until(() -> irqs.size() >= 3);
      assertEquals(List.of("8+", "8-", "8+"), irqs.subList(0, 3));
    }
  }
}
