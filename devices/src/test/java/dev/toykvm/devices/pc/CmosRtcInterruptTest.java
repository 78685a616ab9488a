package dev.toykvm.devices.pc;

import static dev.toykvm.devices.pc.CmosRtc.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** IRQ 8 of the CMOS/RTC: register C's flags, the line, and the deadlines, on a manual clock. */
class CmosRtcInterruptTest {
  // 13:45:07.5 UTC: half a second before an update.
  private final CmosRtcTest.ManualClock clock =
      new CmosRtcTest.ManualClock(Instant.parse("2024-02-27T13:45:07.500Z"));
  private final List<String> irqs = new ArrayList<>();
  private int changes;
  private final CmosRtc rtc =
      new CmosRtc(clock, 128 << 20, 0, 1, (line, level) -> irqs.add(line + (level ? "+" : "-")));

  CmosRtcInterruptTest() {
    rtc.setChangeListener(() -> changes++);
  }

  private int cmos(int index) {
    rtc.write(INDEX, 1, index);
    return (int) rtc.read(DATA, 1);
  }

  private void cmos(int index, int value) {
    rtc.write(INDEX, 1, index);
    rtc.write(DATA, 1, value);
  }

  private void advance(Duration d) {
    clock.now = clock.now.plus(d);
  }

  @Test
  void periodicInterruptAt1024HzRaisesIrq8UntilRegisterCIsRead() {
    cmos(REG_B, REG_B_DEFAULT | B_PIE);
    assertEquals(List.of(), irqs, "no period has ended yet");
    advance(Duration.ofNanos(976_563)); // one period of 1024 Hz
    rtc.poll();
    assertEquals(List.of("8+"), irqs);
    assertTrue(rtc.irqRaised());
    advance(Duration.ofMillis(5)); // more periods: the line is high already, no new edge
    rtc.poll();
    assertEquals(List.of("8+"), irqs);
    assertEquals(C_IRQF | C_PF, cmos(REG_C));
    assertEquals(List.of("8+", "8-"), irqs, "reading C lowers the line");
    assertEquals(0, cmos(REG_C), "and clears the flags");
  }

  @Test
  void flagsAreSetWithoutTheirEnableBitsButNoInterrupt() {
    advance(Duration.ofMillis(600)); // periods and an update
    assertEquals(C_PF | C_UF, cmos(REG_C));
    assertEquals(List.of(), irqs);
  }

  @Test
  void enablingASourceWhoseFlagIsSetRaisesTheLineAtOnce() {
    advance(Duration.ofMillis(600));
    rtc.poll();
    assertEquals(List.of(), irqs);
    cmos(REG_B, REG_B_DEFAULT | B_UIE);
    assertEquals(List.of("8+"), irqs);
    assertEquals(C_IRQF | C_PF | C_UF, cmos(REG_C));
  }

  @Test
  void updateEndedInterruptOncePerSecond() {
    cmos(REG_B, REG_B_DEFAULT | B_UIE);
    advance(Duration.ofMillis(499));
    rtc.poll();
    assertEquals(List.of(), irqs);
    advance(Duration.ofMillis(1));
    rtc.poll();
    assertEquals(List.of("8+"), irqs);
    assertEquals(C_IRQF | C_PF | C_UF, cmos(REG_C));
    advance(Duration.ofMillis(999));
    rtc.poll();
    assertEquals(List.of("8+", "8-"), irqs);
    advance(Duration.ofMillis(1));
    rtc.poll();
    assertEquals(List.of("8+", "8-", "8+"), irqs);
  }

  @Test
  void alarmInterruptWhenTheTimeMatches() {
    cmos(SECONDS_ALARM, 0x09); // BCD 13:45:09
    cmos(MINUTES_ALARM, 0x45);
    cmos(HOURS_ALARM, 0x13);
    cmos(REG_B, REG_B_DEFAULT | B_AIE);
    advance(Duration.ofMillis(500)); // 13:45:08
    rtc.poll();
    assertEquals(List.of(), irqs);
    assertEquals(C_PF | C_UF, cmos(REG_C) & ~C_IRQF);
    advance(Duration.ofSeconds(1)); // 13:45:09
    rtc.poll();
    assertEquals(List.of("8+"), irqs);
    assertEquals(C_IRQF | C_AF, cmos(REG_C) & (C_IRQF | C_AF));
  }

  @Test
  void dontCareAlarmBytesMatchEverySecond() {
    cmos(SECONDS_ALARM, 0xc0);
    cmos(MINUTES_ALARM, 0xff);
    cmos(HOURS_ALARM, 0xc5);
    advance(Duration.ofMillis(500));
    assertEquals(C_AF, cmos(REG_C) & C_AF);
  }

  @Test
  void anAlarmPassedWhileNobodyLookedIsStillSeen() {
    cmos(SECONDS_ALARM, 0x00);
    cmos(MINUTES_ALARM, 0x00);
    cmos(HOURS_ALARM, 0x02); // 02:00:00, half a day away
    advance(Duration.ofHours(13));
    assertEquals(C_AF, cmos(REG_C) & C_AF);
    advance(Duration.ofHours(1));
    assertEquals(0, cmos(REG_C) & C_AF, "not again within the hour");
  }

  @Test
  void noUpdatesWhileSetIsSetNorWhileTheDividerIsInReset() {
    cmos(REG_B, REG_B_DEFAULT | B_SET);
    advance(Duration.ofSeconds(3));
    assertEquals(0, cmos(REG_C) & C_UF);
    cmos(REG_B, REG_B_DEFAULT);
    cmos(REG_A, 0x76); // divider in reset
    advance(Duration.ofSeconds(3));
    assertEquals(0, cmos(REG_C));
  }

  @Test
  void nextInterruptIsTheNextPeriodOrUpdate() {
    long now = clock.now.getEpochSecond() * 1_000_000_000L + clock.now.getNano();
    assertEquals(Long.MAX_VALUE, rtc.nextInterruptNanos(), "nothing enabled");
    cmos(REG_B, REG_B_DEFAULT | B_UIE);
    assertEquals(now + 500_000_000L, rtc.nextInterruptNanos(), "the next second");
    cmos(REG_A, REG_A_DEFAULT & 0xf0 | 15); // 2 Hz: the next period is the same second boundary
    cmos(REG_B, REG_B_DEFAULT | B_UIE | B_PIE);
    assertEquals(now + 500_000_000L, rtc.nextInterruptNanos());
    cmos(REG_A, REG_A_DEFAULT); // 1024 Hz: 7.5 s = 7680 periods exactly; the next one
    assertEquals(now + 976_563, rtc.nextInterruptNanos());
    advance(Duration.ofNanos(976_563));
    rtc.poll();
    assertTrue(rtc.irqRaised());
    assertEquals(Long.MAX_VALUE, rtc.nextInterruptNanos(), "only a read of C lowers the line");
    assertTrue(changes >= 4, "the guest's register writes were told to the timer");
  }

  @ParameterizedTest
  @CsvSource({"0, 0", "1, 128", "2, 256", "3, 4", "6, 32", "15, 16384", "0x26, 32"})
  void ratesAsTheDatasheetTable(int regA, long ticks) {
    assertEquals(ticks, RtcTiming.periodTicks(regA));
  }

  @Test
  void writesToRegisterCAreIgnored() {
    cmos(REG_C, 0xff);
    assertFalse(rtc.irqRaised());
    assertEquals(0, cmos(REG_C));
  }
}
