package dev.toykvm.kernel.irq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The xAPIC, from the Intel SDM vol. 3A chapter 11 (the section each test checks is named). */
class LapicTest {
  private final List<Ipi> ipis = new ArrayList<>();
  private final List<Integer> levelEois = new ArrayList<>();
  private long now = 1_000_000;
  private Lapic apic;

  @BeforeEach
  void setUp() {
    apic = newApic(true);
  }

  private Lapic newApic(boolean bsp) {
    return new Lapic(
        3,
        bsp,
        () -> now,
        new Lapic.Listener() {
          @Override
          public void ipi(Ipi ipi) {
            ipis.add(ipi);
          }

          @Override
          public void levelEoi(int vector) {
            levelEois.add(vector);
          }
        });
  }

  private int read(int reg) {
    return (int) apic.read(reg, 4);
  }

  private void write(int reg, int value) {
    apic.write(reg, 4, value & 0xffff_ffffL);
  }

  private void enable() {
    write(Lapic.SPIV, 0x1ff);
  }

  // 11.4.7.1 reset state, and KVM's version and BSP LVT0.
  @ParameterizedTest
  @CsvSource({
    "0x20, 0x03000000", // ID
    "0x30, 0x00050014", // version
    "0x80, 0", // TPR
    "0x90, 0", // APR
    "0xa0, 0", // PPR
    "0xd0, 0", // LDR
    "0xe0, 0xffffffff", // DFR
    "0xf0, 0x000000ff", // SPIV: disabled, vector 0xff
    "0x320, 0x00010000", // LVT timer masked
    "0x350, 0x00000700", // LVT0 of the BSP: ExtINT, unmasked
    "0x360, 0x00010000",
    "0x370, 0x00010000",
    "0x380, 0",
    "0x390, 0",
    "0x3e0, 0",
  })
  void resetValues(String reg, String value) {
    assertEquals(Long.decode(value).intValue(), read(Integer.decode(reg)));
  }

  @Test
  void anApLvt0StartsMaskedAndTakesNoPicInterrupts() {
    Lapic ap = newApic(false);
    assertEquals(0x10000, ap.read(Lapic.LVT_LINT0, 4));
    assertFalse(ap.acceptsPicInterrupts());
    assertTrue(apic.acceptsPicInterrupts(), "the BSP's virtual wire");
    ap.setHardwareEnabled(false);
    assertTrue(ap.acceptsPicInterrupts(), "a hardware-disabled APIC passes INTR through");
  }

  // Table 11-1: read/write registers keep their writable bits only.
  @ParameterizedTest
  @CsvSource({
    "0x20, 0xffffffff, 0xff000000", // ID
    "0x30, 0xffffffff, 0x00050014", // version: read-only
    "0x80, 0xffffffff, 0x000000ff", // TPR
    "0xd0, 0xffffffff, 0xff000000", // LDR
    "0xe0, 0x00000000, 0x0fffffff", // DFR: cluster model
    "0xf0, 0xffffffff, 0x000003ff", // SPIV
    "0x310, 0xffffffff, 0xff000000", // ICR high
    "0x320, 0xffffffff, 0x000300ff", // LVT timer: no TSC-deadline bit
    "0x330, 0xffffffff, 0x000107ff", // thermal
    "0x340, 0xffffffff, 0x000107ff", // perf
    "0x350, 0xffffffff, 0x0001a7ff", // LINT0: delivery status and remote IRR read-only
    "0x360, 0xffffffff, 0x0001a7ff",
    "0x370, 0xffffffff, 0x000100ff", // error
    "0x3e0, 0xffffffff, 0x0000000b", // divide
  })
  void writableBits(String reg, String value, String expected) {
    enable();
    write(Integer.decode(reg), Long.decode(value).intValue());
    assertEquals(Long.decode(expected).intValue(), read(Integer.decode(reg)));
  }

  // 11.4.7.2: software-disabled, LVT entries stay masked; disabling masks them all.
  @Test
  void softwareDisableMasksTheLvt() {
    write(Lapic.LVT_LINT1, 0x400);
    assertEquals(0x10400, read(Lapic.LVT_LINT1));
    enable();
    write(Lapic.LVT_LINT1, 0x400);
    write(Lapic.LVT_ERROR, 0xfe);
    assertEquals(0x400, read(Lapic.LVT_LINT1));
    write(Lapic.SPIV, 0xff);
    assertEquals(0x10400, read(Lapic.LVT_LINT1));
    assertEquals(0x100fe, read(Lapic.LVT_ERROR));
    assertFalse(apic.acceptInterrupt(0x40, TriggerMode.EDGE), "a disabled APIC drops fixed");
  }

  // 11.8.3/11.8.4: IRR, acknowledge to ISR, EOI; TMR follows the trigger mode.
  @Test
  void acceptAcknowledgeEoi() {
    enable();
    assertTrue(apic.acceptInterrupt(0x41, TriggerMode.EDGE));
    assertTrue(apic.acceptInterrupt(0x62, TriggerMode.LEVEL));
    assertEquals(0x2, read(Lapic.IRR + 0x20), "IRR bit 0x41: word 2, bit 1");
    assertEquals(0x4, read(Lapic.IRR + 0x30), "IRR bit 0x62: word 3, bit 2");
    assertEquals(0x4, read(Lapic.TMR + 0x30), "TMR for the level one");
    assertEquals(0x62, apic.acknowledge());
    assertEquals(0x4, read(Lapic.ISR + 0x30));
    assertEquals(0x60, read(Lapic.PPR), "PPR is the in-service class");
    assertEquals(-1, apic.highestPending(), "0x41 is below the in-service class");
    write(Lapic.EOI, 0);
    assertEquals(List.of(0x62), levelEois, "level EOI reported for the I/O APIC");
    assertEquals(0x41, apic.acknowledge());
    write(Lapic.EOI, 0);
    assertEquals(List.of(0x62), levelEois, "no broadcast for an edge interrupt");
    assertEquals(-1, apic.acknowledge());
  }

  // 11.8.3.1: TPR blocks classes at or below it; PPR is TPR when TPR's class >= ISR's.
  @ParameterizedTest
  @CsvSource({"0x30, 0x3f, -1", "0x30, 0x40, 0x40", "0x3f, 0x3f, -1", "0x2f, 0x3f, 0x3f"})
  void tprPriority(String tpr, String vector, int expected) {
    enable();
    write(Lapic.TPR, Integer.decode(tpr));
    apic.acceptInterrupt(Integer.decode(vector), TriggerMode.EDGE);
    assertEquals(expected, apic.highestPending());
    assertEquals(Integer.decode(tpr).intValue(), read(Lapic.PPR));
  }

  // 11.5.3: vectors 0-15 never reach IRR; ESR shows errors after a write, LVT error fires.
  @Test
  void illegalVectorsAndEsr() {
    enable();
    write(Lapic.LVT_ERROR, 0xfe);
    assertFalse(apic.acceptInterrupt(0x0e, TriggerMode.EDGE));
    assertEquals(0, read(Lapic.ESR), "not visible before a write");
    write(Lapic.ESR, 0);
    assertEquals(Lapic.ESR_RECEIVE_ILLEGAL_VECTOR, read(Lapic.ESR));
    assertEquals(0xfe, apic.acknowledge(), "the error LVT's vector");
    write(Lapic.ICR_LOW, 0x0005); // fixed IPI with vector 5
    assertEquals(List.of(), ipis);
    write(Lapic.ESR, 0);
    assertEquals(Lapic.ESR_SEND_ILLEGAL_VECTOR, read(Lapic.ESR));
    write(Lapic.ESR, 0);
    assertEquals(0, read(Lapic.ESR), "cleared by the next write");
    apic.read(0x40, 4); // reserved
    write(Lapic.ESR, 0);
    assertEquals(Lapic.ESR_ILLEGAL_REGISTER, read(Lapic.ESR));
  }

  // 11.6.1: ICR low sends; each field lands in the IPI; delivery status reads idle.
  @ParameterizedTest
  @CsvSource({
    "0x00004041, 0x05000000, 0x41, FIXED, PHYSICAL, true, EDGE, NONE, 5",
    "0x00000941, 0x0f000000, 0x41, LOWEST_PRIORITY, LOGICAL, false, EDGE, NONE, 15",
    "0x00004400, 0x01000000, 0x00, NMI, PHYSICAL, true, EDGE, NONE, 1",
    "0x000c4500, 0x00000000, 0x00, INIT, PHYSICAL, true, EDGE, ALL_EXCLUDING_SELF, 0",
    "0x00008500, 0x00000000, 0x00, INIT, PHYSICAL, false, LEVEL, NONE, 0",
    "0x000c4608, 0x00000000, 0x08, STARTUP, PHYSICAL, true, EDGE, ALL_EXCLUDING_SELF, 0",
    "0x00044230, 0x00000000, 0x30, SMI, PHYSICAL, true, EDGE, SELF, 0",
    "0x00084031, 0x00000000, 0x31, FIXED, PHYSICAL, true, EDGE, ALL_INCLUDING_SELF, 0",
  })
  void icrSendsIpis(
      String low,
      String high,
      String vector,
      DeliveryMode mode,
      DestinationMode destMode,
      boolean level,
      TriggerMode trigger,
      Ipi.Shorthand shorthand,
      int dest) {
    enable();
    write(Lapic.ICR_HIGH, Long.decode(high).intValue());
    write(Lapic.ICR_LOW, Long.decode(low).intValue() | Lapic.ICR_DELIVERY_STATUS);
    assertEquals(
        List.of(new Ipi(Integer.decode(vector), mode, destMode, level, trigger, shorthand, dest)),
        ipis);
    assertEquals(Long.decode(low).intValue(), read(Lapic.ICR_LOW), "delivery status idle");
  }

  // 11.6.2: physical and logical (flat, cluster) destinations.
  @Test
  void destinationMatching() {
    assertTrue(apic.matchesDestination(3, DestinationMode.PHYSICAL));
    assertTrue(apic.matchesDestination(0xff, DestinationMode.PHYSICAL));
    assertFalse(apic.matchesDestination(4, DestinationMode.PHYSICAL));
    write(Lapic.LDR, 0x0400_0000); // flat: bit 2
    assertTrue(apic.matchesDestination(0x06, DestinationMode.LOGICAL));
    assertFalse(apic.matchesDestination(0x09, DestinationMode.LOGICAL));
    write(Lapic.DFR, 0x0fff_ffff); // cluster model
    write(Lapic.LDR, 0x2100_0000); // cluster 2, member bit 0
    assertTrue(apic.matchesDestination(0x23, DestinationMode.LOGICAL));
    assertFalse(apic.matchesDestination(0x13, DestinationMode.LOGICAL));
    assertFalse(apic.matchesDestination(0x22, DestinationMode.LOGICAL));
  }

  // 11.5.4 Figure 11-10: the divide configuration, at 1 ns per bus cycle.
  @ParameterizedTest
  @CsvSource({"0x0,2", "0x1,4", "0x2,8", "0x3,16", "0x8,32", "0x9,64", "0xa,128", "0xb,1"})
  void divideConfiguration(String tdcr, int divide) {
    enable();
    write(Lapic.TIMER_DIVIDE, Integer.decode(tdcr));
    write(Lapic.TIMER_INITIAL, 1000);
    assertEquals(now + 1000L * divide, apic.nextDeadline());
    now += divide * 250L;
    assertEquals(750, read(Lapic.TIMER_CURRENT));
  }

  // 11.5.4: one-shot counts to 0, interrupts once, stays at 0.
  @Test
  void oneShotTimer() {
    enable();
    write(Lapic.TIMER_DIVIDE, 0xb);
    write(Lapic.LVT_TIMER, 0x50);
    write(Lapic.TIMER_INITIAL, 500_000);
    assertEquals(500_000, read(Lapic.TIMER_CURRENT));
    now += 499_999;
    assertFalse(apic.serviceTimer());
    assertEquals(1, read(Lapic.TIMER_CURRENT));
    now += 1;
    assertTrue(apic.serviceTimer());
    assertEquals(0x50, apic.acknowledge());
    assertEquals(0, read(Lapic.TIMER_CURRENT));
    assertEquals(500_000, read(Lapic.TIMER_INITIAL), "the initial count stays");
    assertEquals(Long.MAX_VALUE, apic.nextDeadline());
    now += 10_000_000;
    assertFalse(apic.serviceTimer());
  }

  // 11.5.4: periodic reloads; missed periods coalesce into one interrupt.
  @Test
  void periodicTimer() {
    enable();
    write(Lapic.TIMER_DIVIDE, 0xb);
    write(Lapic.LVT_TIMER, Lapic.LVT_PERIODIC | 0x51);
    long start = now;
    write(Lapic.TIMER_INITIAL, 1_000_000);
    now = start + 1_000_000;
    assertTrue(apic.serviceTimer());
    assertEquals(start + 2_000_000, apic.nextDeadline());
    assertEquals(1_000_000, read(Lapic.TIMER_CURRENT), "reloaded");
    now = start + 5_500_000;
    assertTrue(apic.serviceTimer());
    assertEquals(start + 6_000_000, apic.nextDeadline());
    assertEquals(500_000, read(Lapic.TIMER_CURRENT));
    assertEquals(0x51, apic.acknowledge());
    assertEquals(-1, apic.acknowledge(), "one IRR bit for the coalesced periods");
  }

  // KVM's floor on a periodic timer's period (200 us).
  @Test
  void periodicTimerHasAFloor() {
    enable();
    write(Lapic.TIMER_DIVIDE, 0xb);
    write(Lapic.LVT_TIMER, Lapic.LVT_PERIODIC | 0x51);
    write(Lapic.TIMER_INITIAL, 10);
    assertEquals(now + LapicTimer.MIN_PERIOD_NS, apic.nextDeadline());
  }

  // A masked timer still counts and expires, without an interrupt; a mode change stops it.
  @Test
  void maskedTimerAndModeChange() {
    enable();
    write(Lapic.LVT_TIMER, Lapic.LVT_MASKED | 0x52);
    write(Lapic.TIMER_INITIAL, 100);
    now += 1000;
    assertTrue(apic.serviceTimer());
    assertEquals(-1, apic.highestPending());
    write(Lapic.TIMER_INITIAL, 100);
    write(Lapic.LVT_TIMER, Lapic.LVT_PERIODIC | 0x52);
    assertEquals(0, read(Lapic.TIMER_INITIAL));
    assertEquals(Long.MAX_VALUE, apic.nextDeadline());
  }

  // Changing the divide mid-count keeps the counts left.
  @Test
  void divideChangeKeepsTheRemainingCount() {
    enable();
    write(Lapic.TIMER_DIVIDE, 0xb);
    write(Lapic.TIMER_INITIAL, 1000);
    now += 400;
    write(Lapic.TIMER_DIVIDE, 0x0); // divide by 2
    assertEquals(600, read(Lapic.TIMER_CURRENT));
    assertEquals(now + 1200, apic.nextDeadline());
  }

  // KVM_GET/SET_LAPIC: the 1 KiB page round-trips, the timer restarts from the initial count.
  @Test
  void stateRoundTrip() {
    enable();
    write(Lapic.TPR, 0x20);
    write(Lapic.LDR, 0x0100_0000);
    write(Lapic.TIMER_DIVIDE, 0xb);
    write(Lapic.TIMER_INITIAL, 1000);
    apic.acceptInterrupt(0x80, TriggerMode.LEVEL);
    apic.acceptInterrupt(0x90, TriggerMode.EDGE);
    apic.acknowledge();
    now += 100;
    byte[] state = apic.getState();
    assertEquals(Lapic.STATE_SIZE, state.length);
    assertEquals(
        900, state[Lapic.TIMER_CURRENT] & 0xff | (state[Lapic.TIMER_CURRENT + 1] & 0xff) << 8);
    assertEquals(0x90, state[Lapic.PPR] & 0xff);
    Lapic other = newApic(false);
    other.setState(state);
    byte[] again = other.getState();
    assertEquals(1000, other.read(Lapic.TIMER_CURRENT, 4), "restarted from the initial count");
    assertEquals(now + 1000, other.nextDeadline());
    again[Lapic.TIMER_CURRENT] = state[Lapic.TIMER_CURRENT];
    again[Lapic.TIMER_CURRENT + 1] = state[Lapic.TIMER_CURRENT + 1];
    assertArrayEquals(state, again);
    assertEquals(-1, other.highestPending(), "0x80 waits for 0x90 in service");
    other.write(Lapic.EOI, 4, 0);
    assertEquals(0x80, other.acknowledge());
    other.write(Lapic.EOI, 4, 0);
    assertEquals(List.of(0x80), levelEois, "TMR came across too");
  }

  @Test
  void setStateOfTheWrongSizeIsEinval() {
    KvmException e = assertThrows(KvmException.class, () -> apic.setState(new byte[1023]));
    assertEquals(Errno.EINVAL, e.errno());
  }

  // KVM's MMIO rules: writes must be aligned 32-bit; reads may be narrow within a register.
  @Test
  void oddAccesses() {
    enable();
    apic.write(Lapic.TPR, 1, 0x55);
    assertEquals(0, read(Lapic.TPR));
    assertEquals(0x05, apic.read(Lapic.VERSION + 2, 1));
    assertEquals(0, apic.read(Lapic.VERSION + 2, 4), "crosses the register");
    assertEquals(2, apic.oddAccesses(), "the narrow read inside a register is fine");
  }

  // 11.4.7.3: INIT resets everything but the APIC ID.
  @Test
  void initKeepsTheId() {
    enable();
    write(Lapic.ID, 0x0700_0000);
    write(Lapic.TPR, 0x40);
    apic.acceptInterrupt(0x80, TriggerMode.EDGE);
    apic.init();
    assertEquals(0x0700_0000, read(Lapic.ID));
    assertEquals(0, read(Lapic.TPR));
    assertEquals(0xff, read(Lapic.SPIV));
    assertEquals(0, read(Lapic.IRR + 0x40));
    apic.reset();
    assertEquals(0x0300_0000, read(Lapic.ID), "power-up: the initial ID");
  }

  // A hardware-disabled APIC's page reads all-ones and ignores writes (KVM).
  @Test
  void hardwareDisabled() {
    apic.setHardwareEnabled(false);
    assertEquals(0xffff_ffffL, apic.read(Lapic.VERSION, 4));
    write(Lapic.SPIV, 0x1ff);
    apic.setHardwareEnabled(true);
    assertFalse(apic.softwareEnabled());
  }
}
