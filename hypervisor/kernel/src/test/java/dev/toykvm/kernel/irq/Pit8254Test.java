package dev.toykvm.kernel.irq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The 8254, from the Intel 8254 datasheet (the section each test checks is named). */
class Pit8254Test {
  private final List<Boolean> irq0 = new ArrayList<>();
  private long now;
  private final Pit8254 pit = new Pit8254(() -> now, irq0::add);

  /** Moves the clock to the first nanosecond of input tick {@code tick}. */
  private void atTick(long tick) {
    now = (tick * 1_000_000_000L + Pit8254.FREQUENCY_HZ - 1) / Pit8254.FREQUENCY_HZ;
  }

  private void out(int port, int value) {
    pit.write(port, 1, value);
  }

  private int in(int port) {
    return (int) pit.read(port, 1);
  }

  private void load(int counter, int mode, int count) {
    out(0x43, counter << 6 | 0x30 | mode << 1); // LSB then MSB
    out(0x40 + counter, count & 0xff);
    out(0x40 + counter, count >>> 8);
  }

  private int readCount(int counter) {
    out(0x43, counter << 6); // counter latch command
    return in(0x40 + counter) | in(0x40 + counter) << 8;
  }

  // "Mode 0: Interrupt on Terminal Count": OUT low after the count, high at 0, counts on.
  @Test
  void mode0() {
    load(0, 0, 100);
    assertFalse(pit.out(0));
    atTick(40);
    assertEquals(60, readCount(0));
    atTick(99);
    assertFalse(pit.out(0));
    atTick(100);
    assertTrue(pit.out(0));
    atTick(110);
    assertEquals(0xffff - 9, readCount(0), "wraps and keeps counting");
  }

  // "Mode 2: Rate Generator": OUT low for one clock each period, reloads.
  @Test
  void mode2() {
    load(0, 2, 10);
    atTick(8);
    assertTrue(pit.out(0));
    assertEquals(2, readCount(0));
    atTick(9);
    assertFalse(pit.out(0), "count 1: OUT low");
    atTick(10);
    assertTrue(pit.out(0));
    assertEquals(10, readCount(0), "reloaded");
  }

  // "Mode 3: Square Wave Mode": high for half the count, low for the other half, counts by 2.
  @Test
  void mode3() {
    load(2, 3, 100);
    out(0x61, 0x01); // gate 2 high: starts counting
    atTick(49);
    assertTrue(pit.out(2));
    atTick(50);
    assertFalse(pit.out(2));
    assertEquals(0, in(0x61) & 0x20, "port 0x61 bit 5 is OUT2");
    atTick(100);
    assertTrue(pit.out(2));
    assertEquals(0x20, in(0x61) & 0x20);
    atTick(110);
    assertEquals(80, readCount(2), "decrements by two");
  }

  // "Mode 1: Hardware Retriggerable One-Shot" and "Mode 5": start on the gate's rising edge.
  @Test
  void modes1And5StartOnTheGate() {
    load(2, 1, 20);
    atTick(30);
    assertTrue(pit.out(2), "not triggered yet");
    out(0x61, 0x01);
    atTick(31);
    assertFalse(pit.out(2), "one-shot running");
    atTick(50);
    assertTrue(pit.out(2));
    load(2, 5, 20);
    out(0x61, 0x00);
    out(0x61, 0x01);
    atTick(70);
    assertFalse(pit.out(2), "strobe: one tick low at terminal count");
    atTick(71);
    assertTrue(pit.out(2));
  }

  // "Mode 4: Software Triggered Strobe": one tick low at terminal count.
  @Test
  void mode4() {
    load(1, 4, 5);
    atTick(4);
    assertTrue(pit.out(1));
    atTick(5);
    assertFalse(pit.out(1));
    atTick(6);
    assertTrue(pit.out(1));
  }

  // "Gate": in mode 0 a low gate suspends counting.
  @Test
  void gateLowSuspendsMode0() {
    out(0x61, 0x01);
    load(2, 0, 100);
    atTick(30);
    out(0x61, 0x00);
    atTick(80);
    assertEquals(70, readCount(2));
    out(0x61, 0x01);
    atTick(149);
    assertFalse(pit.out(2), "50 ticks late: terminal count at 150");
    atTick(150);
    assertTrue(pit.out(2));
  }

  // "Read/Write Operations": LSB only, MSB only, and LSB-then-MSB without a latch.
  @ParameterizedTest
  @CsvSource({"1, 0x34, 0x34, 0x34", "2, 0x12, 0x1200, 0x12", "3, 0x00, 0x1234, 0x34"})
  void accessModes(int rw, String written, String count, String firstRead) {
    out(0x43, 0x80 | rw << 4); // counter 2, mode 0
    if (rw == 3) {
      out(0x42, 0x34);
      out(0x42, 0x12);
    } else {
      out(0x42, Integer.decode(written));
    }
    assertEquals(Integer.decode(firstRead).intValue(), in(0x42), "gate 2 low: count held");
    if (rw == 3) {
      assertEquals(0x12, in(0x42));
    }
    out(0x43, 0x80); // latch counter 2
    int value = rw == 3 ? in(0x42) | in(0x42) << 8 : in(0x42) << (rw == 2 ? 8 : 0);
    assertEquals(Integer.decode(count).intValue(), value);
  }

  // "Counter Latch Command": the latched value holds until read, a second latch is ignored.
  @Test
  void counterLatchHoldsUntilRead() {
    load(0, 2, 1000);
    atTick(100);
    out(0x43, 0x00);
    atTick(300);
    out(0x43, 0x00); // ignored: a latch is held
    assertEquals(900 & 0xff, in(0x40));
    atTick(400);
    assertEquals(900 >>> 8, in(0x40));
    assertEquals(600, readCount(0));
  }

  // "Read-Back Command": status (OUT, null count, RW, mode, BCD) first, then the count.
  @Test
  void readBackStatusAndCount() {
    out(0x43, 0x34 | 0x01); // counter 0, LSB/MSB, mode 2, BCD
    out(0x43, 0xe2); // read-back status of counter 0 (count not latched)
    assertEquals(
        0x80 | 0x40 | 0x30 | 0x04 | 0x01, in(0x40), "OUT high, null count, RW 3, mode 2, BCD");
    out(0x40, 0x10);
    out(0x40, 0x00);
    atTick(4);
    out(0x43, 0xc2); // latch count and status
    assertEquals(0x80 | 0x30 | 0x04 | 0x01, in(0x40), "count loaded: null count clear");
    assertEquals(12, in(0x40) | in(0x40) << 8);
  }

  // Control word modes 6 and 7 are modes 2 and 3 ("Control Word Format": M2 is don't care).
  @Test
  void modes6And7AliasTwoAndThree() {
    out(0x43, 0x3c); // counter 0, mode 6
    out(0x43, 0xe2);
    assertEquals(0x04, in(0x40) & 0x0e);
  }

  // IRQ 0: one pulse per service when counter 0's output rose; deadlines on the clock.
  @Test
  void irq0PulsesAndDeadlines() {
    load(0, 2, 1000);
    assertEquals(
        Math.ceilDiv(1000L * 1_000_000_000L, Pit8254.FREQUENCY_HZ), pit.nextIrq0Deadline());
    atTick(999);
    assertEquals(0, pit.serviceIrq0());
    assertEquals(List.of(), irq0);
    now = pit.nextIrq0Deadline();
    assertEquals(1, pit.serviceIrq0());
    assertEquals(List.of(true, false), irq0);
    atTick(5500);
    assertEquals(4, pit.serviceIrq0(), "missed periods coalesce into one pulse");
    assertEquals(List.of(true, false, true, false), irq0);
    atTick(5999);
    long deadline = pit.nextIrq0Deadline();
    atTick(6000);
    assertEquals(now, deadline, "the first nanosecond of tick 6000");
  }

  // Mode 0 interrupts once; with no count, no deadline.
  @Test
  void irq0OneShot() {
    assertEquals(Long.MAX_VALUE, pit.nextIrq0Deadline());
    load(0, 0, 50);
    atTick(60);
    assertEquals(1, pit.serviceIrq0());
    assertEquals(Long.MAX_VALUE, pit.nextIrq0Deadline());
    atTick(70000);
    assertEquals(0, pit.serviceIrq0());
  }

  // Port 0x61: bits 0-3 read back, bit 4 toggles with the refresh clock, 6-7 read 0.
  @Test
  void portB() {
    out(0x61, 0xff);
    now = 0;
    assertEquals(0x0f, in(0x61) & 0xdf);
    now = Pit8254.REFRESH_TOGGLE_NS;
    assertEquals(0x1f, in(0x61) & 0xdf);
    now = 2 * Pit8254.REFRESH_TOGGLE_NS;
    assertEquals(0x0f, in(0x61) & 0xdf);
  }

  // The PC speaker idiom firmware uses to wait: gate 2 on, mode 0, poll bit 5.
  @Test
  void channel2OutputThroughPortB() {
    out(0x61, 0x00);
    load(2, 0, 1193); // about 1 ms
    out(0x61, 0x01);
    atTick(1192);
    assertEquals(0, in(0x61) & 0x20);
    atTick(1193);
    assertEquals(0x20, in(0x61) & 0x20);
  }

  @Test
  void oddAccesses() {
    assertEquals(0xff, in(0x43));
    pit.write(0x40, 2, 0x0000); // split: counter 0 then counter 1
    assertEquals(2, pit.oddAccesses());
  }
}
