package dev.toykvm.kernel.irq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The 8259A pair, from the Intel 8259A datasheet (the section each test checks is named). */
class Pic8259PairTest {
  private final List<Integer> acked = new ArrayList<>();
  private final List<Boolean> intrChanges = new ArrayList<>();
  private Pic8259Pair pic;

  @BeforeEach
  void setUp() {
    pic =
        new Pic8259Pair(
            new Pic8259Pair.Listener() {
              @Override
              public void intr(boolean level) {
                intrChanges.add(level);
              }

              @Override
              public void acked(int irq) {
                acked.add(irq);
              }
            });
    initialize(0x01); // ICW4: 8086 mode, normal EOI
  }

  /** The PC BIOS's programming: master vectors 0x08-0x0f, slave 0x70-0x77, cascade on IR2. */
  private void initialize(int icw4) {
    out(0x20, 0x11); // ICW1: edge, cascade, ICW4 needed
    out(0x21, 0x08); // ICW2
    out(0x21, 0x04); // ICW3: slave on IR2
    out(0x21, icw4);
    out(0xa0, 0x11);
    out(0xa1, 0x70);
    out(0xa1, 0x02); // ICW3: slave ID 2
    out(0xa1, icw4);
  }

  private void out(int port, int value) {
    pic.write(port, 1, value);
  }

  private int in(int port) {
    return (int) pic.read(port, 1);
  }

  private void pulse(int irq) {
    pic.setIrq(irq, true);
    pic.setIrq(irq, false);
  }

  // "Interrupt Sequence": each IRQ's vector is ICW2's T7-T3 plus the IR number.
  @ParameterizedTest
  @CsvSource({"0,0x08", "1,0x09", "7,0x0f", "8,0x70", "12,0x74", "15,0x77"})
  void acknowledgeReturnsTheVectorOfEachIrq(int irq, int vector) {
    pulse(irq);
    assertTrue(pic.intr());
    assertEquals(vector, pic.acknowledge());
    assertFalse(pic.intr());
  }

  // "Interrupt Sequence": with nothing requested, the acknowledge gets IR7 and no ISR bit.
  @Test
  void acknowledgeWithoutRequestIsSpuriousIrq7() {
    assertEquals(0x0f, pic.acknowledge());
    out(0x20, 0x0b); // OCW3: read ISR
    assertEquals(0, in(0x20));
  }

  // The slave's request vanished between its INT and the acknowledge: the slave answers IR7 (15).
  @Test
  void slaveRequestGoneBeforeAcknowledgeIsSpuriousIrq15() {
    pic.write(Pic8259Pair.ELCR_SLAVE, 1, 0x02); // IRQ 9 level-triggered
    pic.setIrq(9, true);
    assertTrue(pic.intr());
    pic.setIrq(9, false);
    assertEquals(0x77, pic.acknowledge());
    out(0xa0, 0x0b);
    assertEquals(0, in(0xa0), "no slave ISR bit for a spurious interrupt");
  }

  // KVM_IRQ_LINE semantics, edge: a rising edge latches IRR, the line going low does not clear it.
  @Test
  void edgeInputLatchesOnRisingEdgeOnly() {
    pic.setIrq(3, true);
    assertEquals(0x08, in(0x20) & 0x08, "IRR3 after the rising edge");
    pic.setIrq(3, false);
    assertEquals(0x08, in(0x20) & 0x08, "still latched after the line fell");
    assertEquals(0x0b, pic.acknowledge());
    pic.setIrq(3, true);
    pic.setIrq(3, true); // no edge: high again
    out(0x20, 0x20); // EOI
    assertEquals(0x0b, pic.acknowledge());
    out(0x20, 0x20);
    assertFalse(pic.intr(), "one edge, one interrupt");
  }

  // ELCR: a level-triggered IRR bit follows the line, and the request returns after EOI while high.
  @Test
  void levelInputFollowsTheLineAndReassertsAfterEoi() {
    pic.write(Pic8259Pair.ELCR_MASTER, 1, 0x20); // IRQ 5 level
    pic.setIrq(5, true);
    assertEquals(0x0d, pic.acknowledge());
    assertFalse(pic.intr(), "in service");
    out(0x20, 0x20);
    assertTrue(pic.intr(), "line still high: requested again");
    pic.setIrq(5, false);
    assertFalse(pic.intr());
    assertEquals(0, in(0x20) & 0x20);
  }

  // ELCR: IRQ 0, 1, 2, 8 and 13 cannot be level-triggered on a PC.
  @Test
  void elcrKeepsOnlyTheBitsThatCanBeLevel() {
    pic.write(Pic8259Pair.ELCR_MASTER, 1, 0xff);
    pic.write(Pic8259Pair.ELCR_SLAVE, 1, 0xff);
    assertEquals(0xf8, pic.read(Pic8259Pair.ELCR_MASTER, 1));
    assertEquals(0xde, pic.read(Pic8259Pair.ELCR_SLAVE, 1));
  }

  // ICW1.LTIM: every input of that chip is level-triggered.
  @Test
  void ltimMakesEveryInputLevelTriggered() {
    out(0x20, 0x19); // ICW1 with LTIM
    out(0x21, 0x08);
    out(0x21, 0x04);
    out(0x21, 0x01);
    pic.setIrq(1, true);
    pic.setIrq(1, false);
    assertFalse(pic.intr());
  }

  // OCW1: a masked request stays in IRR and interrupts once unmasked.
  @Test
  void imrMasksAndIsReadBack() {
    out(0x21, 0xff);
    assertEquals(0xff, in(0x21));
    pulse(4);
    assertFalse(pic.intr());
    assertEquals(0x10, in(0x20), "IRR read by default");
    out(0x21, 0xef);
    assertTrue(pic.intr());
    assertEquals(0x0c, pic.acknowledge());
  }

  // Masking IR2 on the master masks the whole slave.
  @Test
  void maskingTheCascadeMasksTheSlave() {
    out(0x21, 0x04);
    pulse(10);
    assertFalse(pic.intr());
    out(0x21, 0x00);
    assertEquals(0x72, pic.acknowledge());
  }

  // "Fully Nested Mode": IR0 highest; a lower request waits for the EOI of a higher one.
  @Test
  void fullyNestedPriority() {
    pulse(6);
    pulse(1);
    assertEquals(0x09, pic.acknowledge());
    assertFalse(pic.intr(), "IR6 waits while IR1 is in service");
    pulse(0);
    assertTrue(pic.intr(), "IR0 outranks IR1 in service");
    assertEquals(0x08, pic.acknowledge());
    out(0x20, 0x20); // non-specific EOI: clears the highest in service, IR0
    out(0x20, 0x0b);
    assertEquals(0x02, in(0x20), "IR1 still in service");
    out(0x20, 0x20);
    assertEquals(0x0e, pic.acknowledge());
    assertEquals(List.of(0, 1), acked);
  }

  // OCW2 specific EOI clears the named ISR bit only.
  @Test
  void specificEoi() {
    pulse(3);
    pic.acknowledge();
    pulse(1);
    pic.acknowledge();
    out(0x20, 0x63); // specific EOI, level 3
    out(0x20, 0x0b);
    assertEquals(0x02, in(0x20));
    assertEquals(List.of(3), acked);
  }

  // OCW2 "Rotate on Non-Specific EOI": the serviced IR becomes the lowest priority.
  @Test
  void rotateOnNonSpecificEoi() {
    pulse(0);
    pic.acknowledge();
    out(0x20, 0xa0); // rotate on non-specific EOI: IR0 lowest, IR1 highest
    pulse(0);
    pulse(5);
    assertEquals(0x0d, pic.acknowledge(), "IR5 now outranks IR0");
  }

  // OCW2 "Set Priority Command" and "Rotate on Specific EOI".
  @Test
  void setPriorityAndRotateOnSpecificEoi() {
    out(0x20, 0xc4); // IR4 lowest, IR5 highest
    pulse(3);
    pulse(5);
    assertEquals(0x0d, pic.acknowledge());
    out(0x20, 0xe5); // rotate on specific EOI 5: IR5 lowest, IR6 highest
    pulse(5);
    assertEquals(0x0b, pic.acknowledge(), "IR3 outranks IR5 now");
  }

  // ICW4.AEOI: no ISR bit, the ack notifier runs at acknowledge; rotate in AEOI mode (OCW2 0x80).
  @Test
  void automaticEoiAndRotation() {
    initialize(0x03); // ICW4: AEOI
    out(0x20, 0x80); // rotate in automatic EOI mode: set
    pulse(1);
    pulse(3);
    assertEquals(0x09, pic.acknowledge());
    out(0x20, 0x0b);
    assertEquals(0, in(0x20), "no ISR bit in AEOI mode");
    assertEquals(List.of(1), acked);
    assertEquals(0x0b, pic.acknowledge());
    pulse(1);
    pulse(4);
    assertEquals(0x0c, pic.acknowledge(), "IR3 lowest after rotation: IR4 first");
  }

  // OCW3 special mask mode: a masked IR in service no longer inhibits lower priorities.
  @Test
  void specialMaskMode() {
    pulse(1);
    pic.acknowledge();
    pulse(5);
    assertFalse(pic.intr());
    out(0x21, 0x02); // mask IR1
    out(0x20, 0x68); // OCW3: set special mask
    assertTrue(pic.intr());
    assertEquals(0x0d, pic.acknowledge());
    out(0x20, 0x48); // reset special mask
  }

  // ICW4.SFNM: while IR2 (the slave) is in service, a higher slave request still gets through.
  @Test
  void specialFullyNestedMode() {
    initialize(0x11); // ICW4: SFNM
    pulse(12);
    assertEquals(0x74, pic.acknowledge());
    pulse(9);
    assertTrue(pic.intr(), "SFNM: IR2 in service does not block the slave");
    assertEquals(0x71, pic.acknowledge());
  }

  // Without SFNM (the default) a second slave request waits for the master's EOI.
  @Test
  void normalNestingBlocksTheSlaveWhileIr2IsInService() {
    pulse(12);
    pic.acknowledge();
    pulse(9);
    assertFalse(pic.intr());
    out(0xa0, 0x20);
    out(0x20, 0x20);
    assertEquals(0x71, pic.acknowledge());
  }

  // OCW3 poll: the read is an acknowledge; bit 7 says whether a request was there.
  @Test
  void pollCommand() {
    pulse(6);
    out(0x20, 0x0c); // OCW3: poll
    assertEquals(0x86, in(0x20));
    out(0x20, 0x0b);
    assertEquals(0x40, in(0x20), "the poll set ISR6");
    out(0x20, 0x0c);
    assertEquals(0x00, in(0x20), "nothing requested");
    assertEquals(0x40, in(0x20), "the next read is ISR again");
  }

  // "Initialization Command Words": ICW1 clears IMR and ISR; no interrupt until ICW4 is in.
  @Test
  void icw1ResetsAndInitializationBlocksInterrupts() {
    out(0x21, 0xff);
    pulse(3);
    out(0x20, 0x11);
    assertEquals(0, in(0x21));
    pulse(5);
    assertFalse(pic.intr(), "still initializing");
    out(0x21, 0x20); // ICW2: vectors 0x20-0x27
    out(0x21, 0x04);
    out(0x21, 0x01);
    assertEquals(0x25, pic.acknowledge());
  }

  // ICW1.SNGL: no ICW3; ICW1 without IC4: no ICW4 either, the next data write is OCW1.
  @Test
  void singleModeWithoutIcw4() {
    out(0x20, 0x12); // edge, single, no ICW4
    out(0x21, 0x40); // ICW2
    out(0x21, 0xfe); // OCW1 already
    assertEquals(0xfe, in(0x21));
    pulse(0);
    assertEquals(0x40, pic.acknowledge());
  }

  @Test
  void intrChangesAreReported() {
    pulse(1);
    pic.acknowledge();
    assertEquals(List.of(true, false), intrChanges);
  }

  @Test
  void wideAccessesAreSplitAndOtherPortsFloat() {
    pic.write(0x20, 2, 0x3011); // ICW1 0x11 at 0x20, then ICW2 0x30 at 0x21
    out(0x21, 0x04);
    out(0x21, 0x01);
    pulse(3);
    assertEquals(0x33, pic.acknowledge());
    assertEquals(1, pic.oddAccesses());
    assertEquals(0xff, pic.read(0x22, 1), "nothing drives port 0x22");
    assertEquals(0xff00, pic.read(0x21, 2), "IMR 0 (0x21) then nothing (0x22)");
  }

  @Test
  void irqOutOfRangeIsTheOwnersBug() {
    assertThrows(IllegalArgumentException.class, () -> pic.setIrq(16, true));
    assertThrows(IllegalArgumentException.class, () -> pic.setIrq(-1, true));
  }
}
