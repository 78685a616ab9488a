package dev.toykvm.kvm;

/**
 * {@code struct kvm_msi}: one message-signalled interrupt for {@link VmFd#signalMsi}, in the x86
 * MSI format (Intel SDM vol. 3A, 11.11).
 *
 * @param addressLo the message address: bits 31-20 0xFEE, destination ID in bits 19-12, redirection
 *     hint bit 3, destination mode bit 2 (1: logical)
 * @param addressHi the upper 32 bits of the address (not used on x86 without x2APIC)
 * @param data the message data: vector in bits 7-0, delivery mode in bits 10-8, level bit 14,
 *     trigger mode bit 15 (1: level)
 * @param flags 0, or {@link KvmConstants#KVM_MSI_VALID_DEVID}
 * @param devid the requester ID with {@code KVM_MSI_VALID_DEVID} (not used on x86)
 */
public record KvmMsi(int addressLo, int addressHi, int data, int flags, int devid) {

  /** Every field zero, as {@code struct kvm_msi msi = {0}} in C. */
  public static final KvmMsi ZERO = new KvmMsi(0, 0, 0, 0, 0);

  /** A copy with another {@code addressLo}: sets {@code address_lo}. */
  public KvmMsi withAddressLo(int value) {
    return new KvmMsi(value, addressHi, data, flags, devid);
  }

  /** A copy with another {@code addressHi}: sets {@code address_hi}. */
  public KvmMsi withAddressHi(int value) {
    return new KvmMsi(addressLo, value, data, flags, devid);
  }

  /** A copy with another {@code data}: sets {@code data}. */
  public KvmMsi withData(int value) {
    return new KvmMsi(addressLo, addressHi, value, flags, devid);
  }

  /** A copy with another {@code flags}: sets {@code flags}. */
  public KvmMsi withFlags(int value) {
    return new KvmMsi(addressLo, addressHi, data, value, devid);
  }

  /** A copy with another {@code devid}: sets {@code devid}. */
  public KvmMsi withDevid(int value) {
    return new KvmMsi(addressLo, addressHi, data, flags, value);
  }
}
