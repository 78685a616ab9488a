package dev.toykvm.kernel.irq;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** Priority order across many requests, checked against a plain model of the rules. */
class IrqPriorityPropertiesTest {

  /**
   * 8259A "Fully Nested Mode" on a PC: after any set of edges, acknowledging and EOIing one at a
   * time yields IRQ 0, 1, then the slave's 8-15 (in IR2's place), then 3-7, each once.
   */
  @Property(tries = 200)
  void picServesEveryRequestOnceInPcPriorityOrder(
      @ForAll @Size(max = 15) Set<@IntRange(min = 0, max = 15) Integer> irqs) {
    Pic8259Pair pic = new Pic8259Pair(new Pic8259Pair.Listener() {});
    // The BIOS's ICW1-4: master vectors 0x08, slave 0x70 on IR2.
    int[][] init = {
      {0x20, 0x11}, {0x21, 0x08}, {0x21, 0x04}, {0x21, 0x01},
      {0xa0, 0x11}, {0xa1, 0x70}, {0xa1, 0x02}, {0xa1, 0x01}
    };
    for (int[] w : init) {
      pic.write(w[0], 1, w[1]);
    }
    List<Integer> expected = new ArrayList<>();
    for (int irq : new int[] {0, 1, 8, 9, 10, 11, 12, 13, 14, 15, 3, 4, 5, 6, 7}) {
      if (irqs.contains(irq)) {
        expected.add(irq < 8 ? 0x08 + irq : 0x70 + irq - 8);
      }
    }
    for (int irq : irqs) {
      if (irq == 2) {
        continue;
      }
      pic.setIrq(irq, true); // IRQ 2 is the cascade: nothing drives it on a PC
      pic.setIrq(irq, false);
    }
    List<Integer> served = new ArrayList<>();
    while (pic.intr()) {
      int vector = pic.acknowledge();
      served.add(vector);
      if (vector >= 0x70) {
        pic.write(0xa0, 1, 0x20);
      }
      pic.write(0x20, 1, 0x20);
    }
    assertEquals(expected, served);
  }

  /**
   * Intel SDM 11.8.3.1: with EOI after each, a local APIC delivers the accepted vectors from the
   * highest down, each once, and only those whose class is above TPR's.
   */
  @Property(tries = 200)
  void lapicServesVectorsFromTheHighestDown(
      @ForAll Set<@IntRange(min = 16, max = 255) Integer> vectors,
      @ForAll @IntRange(min = 0, max = 255) int tpr) {
    Lapic apic =
        new Lapic(
            0,
            true,
            () -> 0,
            new Lapic.Listener() {
              @Override
              public void ipi(Ipi ipi) {}

              @Override
              public void levelEoi(int vector) {}
            });
    apic.write(Lapic.SPIV, 4, 0x1ff);
    apic.write(Lapic.TPR, 4, tpr);
    for (int v : vectors) {
      apic.acceptInterrupt(v, TriggerMode.EDGE);
    }
    List<Integer> expected =
        vectors.stream().filter(v -> (v & 0xf0) > (tpr & 0xf0)).sorted((a, b) -> b - a).toList();
    List<Integer> served = new ArrayList<>();
    for (int v = apic.acknowledge(); v >= 0; v = apic.acknowledge()) {
      served.add(v);
      apic.write(Lapic.EOI, 4, 0);
    }
    assertEquals(expected, served);
  }
}
