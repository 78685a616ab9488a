package dev.toykvm.devices.pc;

import static dev.toykvm.devices.pc.CmosRtc.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CmosRtcTest {
  private static final long MIB = 1 << 20;

  /** A clock the test moves by hand. */
  static final class ManualClock extends Clock {
    Instant now;

    ManualClock(Instant now) {
      this.now = now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  // Tuesday 2024-02-27 13:45:07.5 UTC
  private final ManualClock clock = new ManualClock(Instant.parse("2024-02-27T13:45:07.500Z"));
  private final CmosRtc rtc = new CmosRtc(clock, 128 * MIB, 0, 1);

  private int cmos(int index) {
    rtc.write(INDEX, 1, index); // outb(index, 0x70)
    return (int) rtc.read(DATA, 1); // inb(0x71)
  }

  private void cmos(int index, int value) {
    rtc.write(INDEX, 1, index);
    rtc.write(DATA, 1, value);
  }

  @ParameterizedTest(name = "register 0x{0} reads 0x{1} in BCD")
  @CsvSource({
    "00, 07", "02, 45", "04, 13", "06, 03", "07, 27", "08, 02", "09, 24", "32, 20",
  })
  void theTimeIsBcdAnd24HourByDefault(String reg, String value) {
    assertEquals(Integer.parseInt(value, 16), cmos(Integer.parseInt(reg, 16)));
  }

  @ParameterizedTest(name = "register 0x{0} reads {1} in binary")
  @CsvSource({"00, 7", "02, 45", "04, 13", "06, 3", "07, 27", "08, 2", "09, 24", "32, 20"})
  void theTimeIsBinaryWithDm(String reg, int value) {
    cmos(REG_B, B_24H | B_BINARY);
    assertEquals(value, cmos(Integer.parseInt(reg, 16)));
  }

  @ParameterizedTest(name = "{0}:00 reads 0x{1} in 12-hour BCD")
  @CsvSource({"0, 12", "1, 01", "11, 11", "12, 92", "13, 81", "23, 91"})
  void twelveHourModeHasPmInBit7(int hour, String value) {
    clock.now = Instant.parse("2024-02-27T00:00:00Z").plus(Duration.ofHours(hour));
    cmos(REG_B, 0); // 12-hour, BCD
    assertEquals(Integer.parseInt(value, 16), cmos(HOURS));
  }

  @Test
  void theTimeFollowsTheClock() {
    clock.now = clock.now.plusSeconds(60);
    assertEquals(0x46, cmos(MINUTES));
    assertEquals(0x07, cmos(SECONDS));
  }

  @Test
  void statusRegistersStartAsOnAPc() {
    assertEquals(REG_A_DEFAULT, cmos(REG_A));
    assertEquals(B_24H, cmos(REG_B));
    assertEquals(0, cmos(REG_C));
    assertEquals(D_VRT, cmos(REG_D));
    cmos(REG_C, 0xff);
    cmos(REG_D, 0);
    assertEquals(0, cmos(REG_C));
    assertEquals(D_VRT, cmos(REG_D));
  }

  @Test
  void uipIsSetInTheLast244MicrosecondsButNeverTwiceInARow() {
    assertEquals(0, cmos(REG_A) & A_UIP, "mid-second");
    clock.now = Instant.parse("2024-02-27T13:45:07.999800Z");
    assertEquals(A_UIP, cmos(REG_A) & A_UIP);
    assertEquals(0, cmos(REG_A) & A_UIP, "a frozen clock does not keep a poller waiting");
    assertEquals(A_UIP, cmos(REG_A) & A_UIP);
    cmos(REG_B, B_SET | B_24H);
    assertEquals(0, cmos(REG_A) & A_UIP, "no update while SET");
  }

  @Test
  void registerAKeepsItsLowBitsButNotUip() {
    cmos(REG_A, 0xa6);
    assertEquals(0x26, cmos(REG_A));
  }

  @Test
  void setFreezesTheTimeAndClearingItStartsFromWhatWasWritten() {
    cmos(REG_B, B_SET | B_24H);
    assertEquals(0, cmos(REG_B) & B_UIE);
    clock.now = clock.now.plusSeconds(30);
    assertEquals(0x07, cmos(SECONDS), "frozen");
    cmos(SECONDS, 0x00);
    cmos(MINUTES, 0x30);
    cmos(HOURS, 0x08);
    cmos(DAY_OF_MONTH, 0x31);
    cmos(MONTH, 0x12);
    cmos(YEAR, 0x99);
    cmos(CENTURY, 0x19);
    assertEquals(LocalDateTime.parse("1999-12-31T08:30:00"), rtc.time());
    cmos(REG_B, B_24H);
    clock.now = clock.now.plusSeconds(5);
    assertEquals(0x05, cmos(SECONDS));
    assertEquals(0x30, cmos(MINUTES));
    assertEquals(0x06, cmos(DAY_OF_WEEK), "31 December 1999 was a Friday");
    assertEquals(0x99, cmos(YEAR));
    assertEquals(0x19, cmos(CENTURY));
  }

  @Test
  void aWriteWithoutSetSetsTheTimeAtOnce() {
    cmos(HOURS, 0x02);
    assertEquals(0x02, cmos(HOURS));
    assertEquals(0x45, cmos(MINUTES));
    clock.now = clock.now.plusSeconds(3600);
    assertEquals(0x03, cmos(HOURS));
  }

  @Test
  void twelveHourWritesAreDecoded() {
    cmos(REG_B, B_SET | B_BINARY); // 12-hour, binary
    cmos(HOURS, 0x80 | 12); // 12 PM
    assertEquals(12, rtc.time().getHour());
    cmos(HOURS, 12); // 12 AM
    assertEquals(0, rtc.time().getHour());
    cmos(HOURS, 0x80 | 3);
    assertEquals(15, rtc.time().getHour());
  }

  @Test
  void fieldsAreWrittenOneByOneWithoutSetToo() {
    // 27 February -> 31 December: the day is written before the month, as Linux does.
    cmos(DAY_OF_MONTH, 0x31);
    cmos(MONTH, 0x12);
    assertEquals(LocalDateTime.parse("2024-12-31T13:45:07"), rtc.time());
  }

  @Test
  void anImpossibleDateReadsBackAsWrittenThenRollsOver() {
    cmos(DAY_OF_MONTH, 0x31); // February
    assertEquals(0x31, cmos(DAY_OF_MONTH));
    clock.now = clock.now.plusSeconds(1);
    assertEquals(0x02, cmos(DAY_OF_MONTH));
    assertEquals(0x03, cmos(MONTH));
    assertEquals(LocalDateTime.parse("2024-03-02T13:45:08"), rtc.time());
  }

  @Test
  void dayOfWeekIgnoresWrites() {
    cmos(DAY_OF_WEEK, 1);
    assertEquals(3, cmos(DAY_OF_WEEK));
  }

  @Test
  void theIndexPortTakesTheNmiBitAndReadsFf() {
    rtc.write(INDEX, 1, 0x80 | SECONDS);
    assertTrue(rtc.nmiDisabled());
    assertEquals(0x07, rtc.read(DATA, 1));
    assertEquals(0xff, rtc.read(INDEX, 1));
    rtc.write(INDEX, 1, SECONDS);
    assertFalse(rtc.nmiDisabled());
  }

  @Test
  void aWideAccessIsSplitIntoPorts() {
    rtc.write(INDEX, 2, 0x5500 | 0x40); // index 0x40, then 0x55 to the data port
    assertEquals(0x55, cmos(0x40));
    assertEquals(0x55ff, rtc.read(INDEX, 2));
  }

  @Test
  void theRestIsPlainNvram() {
    for (int i = 0x0e; i < CMOS_SIZE; i++) {
      if (i != CENTURY) {
        cmos(i, i ^ 0xa5);
      }
    }
    for (int i = 0x0e; i < CMOS_SIZE; i++) {
      if (i != CENTURY) {
        assertEquals(i ^ 0xa5, cmos(i), "byte 0x" + Integer.toHexString(i));
      }
    }
    cmos(SECONDS_ALARM, 0x59);
    assertEquals(0x59, cmos(SECONDS_ALARM));
  }

  private int cmos16(CmosRtc r, int at) {
    r.write(INDEX, 1, at);
    int lo = (int) r.read(DATA, 1);
    r.write(INDEX, 1, at + 1);
    return lo | (int) r.read(DATA, 1) << 8;
  }

  private int cmos24(CmosRtc r, int at) {
    int low = cmos16(r, at);
    r.write(INDEX, 1, at + 2);
    return low | (int) r.read(DATA, 1) << 16;
  }

  @ParameterizedTest(name = "below 4G {0} MiB, above {1} MiB, {2} CPUs")
  @CsvSource({
    // below, above, cpus, base KiB, extended KiB, 64 KiB above 16 MiB, 64 KiB above 4 GiB
    "32, 0, 1, 640, 31744, 256, 0",
    "128, 0, 1, 640, 65535, 1792, 0",
    "512, 0, 2, 640, 65535, 7936, 0",
    "3072, 2048, 4, 640, 65535, 48896, 32768",
    "3584, 61440, 8, 640, 65535, 57088, 983040",
    "16, 0, 1, 640, 15360, 0, 0",
    "0, 0, 1, 0, 0, 0, 0",
  })
  void memorySizeBytesAsQemuSetsThem(
      long below, long above, int cpus, int base, int ext, int mid, int high) {
    CmosRtc r = new CmosRtc(clock, below * MIB, above * MIB, cpus);
    assertEquals(base, cmos16(r, 0x15));
    assertEquals(ext, cmos16(r, 0x17));
    assertEquals(ext, cmos16(r, 0x30));
    assertEquals(mid, cmos16(r, 0x34));
    assertEquals(high, cmos24(r, 0x5b));
    r.write(INDEX, 1, 0x5f);
    assertEquals(cpus - 1, r.read(DATA, 1));
    r.write(INDEX, 1, EQUIPMENT);
    assertEquals(0x06, r.read(DATA, 1));
  }

  @Test
  void smallBaseMemoryIsItsSize() {
    CmosRtc r = new CmosRtc(clock, 512 * 1024, 0, 1);
    assertEquals(512, cmos16(r, 0x15));
    assertEquals(0, cmos16(r, 0x17));
  }

  @Test
  void badMachinesAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> new CmosRtc(clock, -1, 0, 1));
    assertThrows(IllegalArgumentException.class, () -> new CmosRtc(clock, 0, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new CmosRtc(clock, 0, 0, 257));
  }
}
