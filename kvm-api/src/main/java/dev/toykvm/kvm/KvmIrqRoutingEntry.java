package dev.toykvm.kvm;

/**
 * {@code struct kvm_irq_routing_entry}: one route of a GSI in the table {@link VmFd#setGsiRouting}
 * installs, either to an interrupt controller's input pin ({@link Irqchip}, {@code
 * KVM_IRQ_ROUTING_IRQCHIP}) or to an MSI ({@link Msi}, {@code KVM_IRQ_ROUTING_MSI}).
 */
public sealed interface KvmIrqRoutingEntry {

  /** The GSI this entry routes (an unsigned 32-bit value in C). */
  int gsi();

  /** {@code flags}: 0, or for an MSI {@link KvmConstants#KVM_MSI_VALID_DEVID}. */
  int flags();

  /** {@code type}: {@link KvmConstants#KVM_IRQ_ROUTING_IRQCHIP} or {@code _MSI}. */
  int type();

  /** A route to input {@code pin} of an interrupt controller, with flags 0. */
  static Irqchip irqchip(int gsi, int irqchip, int pin) {
    return new Irqchip(gsi, 0, irqchip, pin);
  }

  /** A route to an MSI (see {@link KvmMsi} for the format), with flags 0. */
  static Msi msi(int gsi, int addressLo, int addressHi, int data) {
    return new Msi(gsi, 0, addressLo, addressHi, data, 0);
  }

  /**
   * {@code KVM_IRQ_ROUTING_IRQCHIP}: {@code u.irqchip}.
   *
   * @param irqchip {@link KvmConstants#KVM_IRQCHIP_PIC_MASTER}, {@code _PIC_SLAVE} or {@code
   *     _IOAPIC}
   * @param pin the input: 0-7 on a PIC, 0-23 on the I/O APIC
   */
  record Irqchip(int gsi, int flags, int irqchip, int pin) implements KvmIrqRoutingEntry {
    /** Every field zero. */
    public static final Irqchip ZERO = new Irqchip(0, 0, 0, 0);

    @Override
    public int type() {
      return KvmConstants.KVM_IRQ_ROUTING_IRQCHIP;
    }

    /** A copy with another {@code gsi}. */
    public Irqchip withGsi(int value) {
      return new Irqchip(value, flags, irqchip, pin);
    }

    /** A copy with another {@code flags}. */
    public Irqchip withFlags(int value) {
      return new Irqchip(gsi, value, irqchip, pin);
    }

    /** A copy with another {@code irqchip}. */
    public Irqchip withIrqchip(int value) {
      return new Irqchip(gsi, flags, value, pin);
    }

    /** A copy with another {@code pin}. */
    public Irqchip withPin(int value) {
      return new Irqchip(gsi, flags, irqchip, value);
    }
  }

  /**
   * {@code KVM_IRQ_ROUTING_MSI}: {@code u.msi}, the message raising the GSI sends (see {@link
   * KvmMsi} for the format).
   */
  record Msi(int gsi, int flags, int addressLo, int addressHi, int data, int devid)
      implements KvmIrqRoutingEntry {
    /** Every field zero. */
    public static final Msi ZERO = new Msi(0, 0, 0, 0, 0, 0);

    @Override
    public int type() {
      return KvmConstants.KVM_IRQ_ROUTING_MSI;
    }

    /** A copy with another {@code gsi}. */
    public Msi withGsi(int value) {
      return new Msi(value, flags, addressLo, addressHi, data, devid);
    }

    /** A copy with another {@code flags}. */
    public Msi withFlags(int value) {
      return new Msi(gsi, value, addressLo, addressHi, data, devid);
    }

    /** A copy with another {@code address_lo}. */
    public Msi withAddressLo(int value) {
      return new Msi(gsi, flags, value, addressHi, data, devid);
    }

    /** A copy with another {@code address_hi}. */
    public Msi withAddressHi(int value) {
      return new Msi(gsi, flags, addressLo, value, data, devid);
    }

    /** A copy with another {@code data}. */
    public Msi withData(int value) {
      return new Msi(gsi, flags, addressLo, addressHi, value, devid);
    }

    /** A copy with another {@code devid}. */
    public Msi withDevid(int value) {
      return new Msi(gsi, flags, addressLo, addressHi, data, value);
    }
  }
}
