package dev.toykvm.devices;

/** The interrupt lines a device drives, e.g. the ISA IRQs 0-15 of a PC (or 0-23 on an IOAPIC). */
@FunctionalInterface
public interface IrqLine {

  /** Sets the level of line {@code irq}: {@code true} raised, {@code false} lowered. */
  void setIrq(int irq, boolean level);
}
