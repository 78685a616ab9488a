package dev.toykvm.devices;

/** The interrupt lines a device drives, e.g. the ISA IRQs 0-15 of a PC (or 0-23 on an IOAPIC). */
@FunctionalInterface
public interface IrqLine {

  /** Sets the level of line {@code irq}: {@code true} raised, {@code false} lowered. */
  void setIrq(int irq, boolean level);

  /**
   * An edge on line {@code irq}: raised and lowered at once. By default {@code setIrq(irq, true)}
   * then {@code setIrq(irq, false)}; an irqfd without resample signals once ({@link IrqfdLines}).
   */
  default void pulse(int irq) {
    setIrq(irq, true);
    setIrq(irq, false);
  }
}
