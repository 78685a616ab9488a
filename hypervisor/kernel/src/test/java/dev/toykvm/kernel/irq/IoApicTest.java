package dev.toykvm.kernel.irq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The I/O APIC, from the Intel 82093AA datasheet (the section each test checks is named). */
class IoApicTest {
  private final List<InterruptRequest> sent = new ArrayList<>();
  private final List<Integer> acked = new ArrayList<>();
  private final IoApic ioapic = new IoApic(sent::add, acked::add);

  private int readReg(int reg) {
    ioapic.write(IoApic.IOREGSEL, 4, reg);
    return (int) ioapic.read(IoApic.IOWIN, 4);
  }

  private void writeReg(int reg, int value) {
    ioapic.write(IoApic.IOREGSEL, 4, reg);
    ioapic.write(IoApic.IOWIN, 4, value & 0xffff_ffffL);
  }

  private void program(int pin, long entry) {
    writeReg(0x11 + 2 * pin, (int) (entry >>> 32));
    writeReg(0x10 + 2 * pin, (int) entry);
  }

  // 3.1: IOREGSEL is read/write, bits 7:0.
  @Test
  void ioregselReadsBack() {
    ioapic.write(IoApic.IOREGSEL, 4, 0x1234);
    assertEquals(0x34, ioapic.read(IoApic.IOREGSEL, 4));
  }

  // 3.2.1-3.2.3: ID (bits 27:24, r/w), version 0x11 with max entry 23, arbitration ID from the ID.
  @Test
  void idVersionAndArbitration() {
    assertEquals(0x00170011, readReg(IoApic.REG_VERSION));
    writeReg(IoApic.REG_ID, 0xff00_0000);
    assertEquals(0x0f00_0000, readReg(IoApic.REG_ID));
    assertEquals(0x0f00_0000, readReg(IoApic.REG_ARBITRATION));
    writeReg(IoApic.REG_VERSION, 0);
    assertEquals(0x00170011, readReg(IoApic.REG_VERSION), "read-only");
  }

  // 3.2.4: after reset every entry is masked; the writable fields read back, RO bits do not stick.
  @Test
  void redirectionEntriesResetMaskedAndReadBack() {
    for (int pin = 0; pin < IoApic.PINS; pin++) {
      assertEquals(0x10000, readReg(0x10 + 2 * pin), "pin " + pin);
      assertEquals(0, readReg(0x11 + 2 * pin));
    }
    writeReg(0x10 + 2 * 23, 0xffff_ffff);
    writeReg(0x11 + 2 * 23, 0xffff_ffff);
    assertEquals(0x1afff, readReg(0x10 + 2 * 23), "delivery status and remote IRR are read-only");
    assertEquals(0xff00_0000, readReg(0x11 + 2 * 23), "only the destination is writable");
  }

  // 3.2.4: the message carries the entry's vector, delivery mode, destination mode and destination.
  @ParameterizedTest
  @CsvSource({
    "0x0000_0000_0000_0030, 0,  PHYSICAL, FIXED, 0x30",
    "0x0300_0000_0000_0141, 3,  PHYSICAL, LOWEST_PRIORITY, 0x41",
    "0xff00_0000_0000_0852, 255, LOGICAL, FIXED, 0x52",
    "0x0100_0000_0000_0400, 1,  PHYSICAL, NMI, 0x00",
    "0x0000_0000_0000_0700, 0,  PHYSICAL, EXTINT, 0x00",
  })
  void messageFields(String entry, int dest, DestinationMode mode, DeliveryMode dm, String vec) {
    program(5, Long.parseUnsignedLong(entry.replace("_", "").substring(2), 16));
    ioapic.setIrq(5, true);
    assertEquals(
        List.of(new InterruptRequest(dest, mode, dm, Integer.decode(vec), true, TriggerMode.EDGE)),
        sent);
  }

  // Edge trigger: one message per rising edge, none while the line stays high.
  @Test
  void edgePinSendsOncePerRisingEdge() {
    program(1, 0x31);
    ioapic.setIrq(1, true);
    ioapic.setIrq(1, true);
    ioapic.setIrq(1, false);
    ioapic.setIrq(1, true);
    assertEquals(2, sent.size());
  }

  // 3.2.4 bit 16: a masked edge is lost; unmasking does not send it.
  @Test
  void maskedEdgeIsLost() {
    program(2, IoApic.MASKED | 0x32);
    ioapic.setIrq(2, true);
    program(2, 0x32);
    assertEquals(0, sent.size());
  }

  // 3.2.4 bit 14: Remote IRR is set when a level interrupt is sent, cleared by the EOI; the line
  // still asserted at EOI sends again.
  @Test
  void levelPinRemoteIrrAndRedeliveryAfterEoi() {
    program(9, IoApic.TRIGGER_LEVEL | 0x49);
    ioapic.setIrq(9, true);
    assertEquals(1, sent.size());
    assertEquals(TriggerMode.LEVEL, sent.get(0).trigger());
    assertTrue((readReg(0x10 + 18) & IoApic.REMOTE_IRR) != 0);
    ioapic.setIrq(9, true);
    assertEquals(1, sent.size(), "Remote IRR holds further messages");
    ioapic.eoi(0x49);
    assertEquals(List.of(9), acked);
    assertEquals(2, sent.size(), "still asserted: sent again");
    ioapic.setIrq(9, false);
    ioapic.eoi(0x49);
    assertEquals(0, readReg(0x10 + 18) & IoApic.REMOTE_IRR);
    assertEquals(2, sent.size());
  }

  // irqfd resampling: the ack notifier deasserts the line, so the EOI sends nothing more.
  @Test
  void ackNotifierThatDeassertsStopsRedelivery() {
    IoApic[] self = {null};
    self[0] =
        new IoApic(
            sent::add, pin -> self[0].setIrq(pin, false)); // what a resamplefd's handler leads to
    ioapicProgram(self[0], 7, IoApic.TRIGGER_LEVEL | 0x47);
    self[0].setIrq(7, true);
    self[0].eoi(0x47);
    assertEquals(1, sent.size());
    assertEquals(0, self[0].redirectionEntry(7) & IoApic.REMOTE_IRR);
  }

  private static void ioapicProgram(IoApic target, int pin, long entry) {
    target.write(IoApic.IOREGSEL, 4, 0x10 + 2 * pin);
    target.write(IoApic.IOWIN, 4, entry & 0xffff_ffffL);
  }

  // An EOI for another vector or for an edge entry leaves the entry alone.
  @Test
  void eoiMatchesVectorAndLevelOnly() {
    program(9, IoApic.TRIGGER_LEVEL | 0x49);
    program(3, 0x49);
    ioapic.setIrq(9, true);
    ioapic.eoi(0x50);
    assertTrue((readReg(0x10 + 18) & IoApic.REMOTE_IRR) != 0);
    assertEquals(List.of(), acked);
  }

  // A level line asserted while masked is sent when the entry is unmasked.
  @Test
  void unmaskingAnAssertedLevelLineSends() {
    program(10, IoApic.MASKED | IoApic.TRIGGER_LEVEL | 0x4a);
    ioapic.setIrq(10, true);
    assertEquals(0, sent.size());
    program(10, IoApic.TRIGGER_LEVEL | 0x4a);
    assertEquals(1, sent.size());
  }

  // KVM's rule: switching an entry to edge clears its Remote IRR.
  @Test
  void switchingToEdgeClearsRemoteIrr() {
    program(11, IoApic.TRIGGER_LEVEL | 0x4b);
    ioapic.setIrq(11, true);
    program(11, 0x4b);
    assertEquals(0, readReg(0x10 + 22) & IoApic.REMOTE_IRR);
  }

  // KVM_IRQ_LINE semantics: level = asserted; the polarity bit is stored, not applied.
  @Test
  void polarityIsStoredNotApplied() {
    program(4, IoApic.POLARITY_LOW | 0x34);
    assertEquals(0x2034, readReg(0x18));
    ioapic.setIrq(4, true);
    assertEquals(1, sent.size());
  }

  @Test
  void oddAccessesAreCountedNotFatal() {
    assertEquals(0, ioapic.read(0x20, 4));
    ioapic.write(0x30, 4, 1);
    ioapic.write(IoApic.IOREGSEL, 4, 0x40); // past the table
    assertEquals(0, ioapic.read(IoApic.IOWIN, 4));
    ioapic.write(IoApic.IOREGSEL, 1, IoApic.REG_VERSION);
    assertEquals(0x11, ioapic.read(IoApic.IOWIN, 1));
    assertEquals(5, ioapic.oddAccesses());
  }

  @Test
  void pinOutOfRangeIsTheOwnersBug() {
    assertThrows(IllegalArgumentException.class, () -> ioapic.setIrq(24, true));
  }
}
