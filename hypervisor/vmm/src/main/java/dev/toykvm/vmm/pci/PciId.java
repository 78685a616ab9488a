package dev.toykvm.vmm.pci;

/**
 * What a PCI function says it is, in its configuration header.
 *
 * @param vendor vendor id (offset 0x00)
 * @param device device id (0x02)
 * @param revision revision id (0x08)
 * @param classCode class, subclass and programming interface (0x09-0x0b), e.g. 0x060000 for a host
 *     bridge
 * @param subsystemVendor subsystem vendor id (0x2c)
 * @param subsystem subsystem id (0x2e)
 */
public record PciId(
    int vendor, int device, int revision, int classCode, int subsystemVendor, int subsystem) {

  /** Red Hat's (Qumranet's) vendor id, QEMU's default subsystem vendor for its devices. */
  public static final int QEMU_SUBSYSTEM_VENDOR = 0x1af4;

  /** QEMU's default subsystem id ("QEMU virtual machine"). */
  public static final int QEMU_SUBSYSTEM = 0x1100;

  public static final int INTEL = 0x8086;

  public PciId {
    if ((vendor & ~0xffff) != 0 || vendor == 0xffff) {
      throw new IllegalArgumentException(
          "cannot describe a PCI function: vendor 0x%x is not a 16-bit vendor id (0xffff means"
              + " absent)".formatted(vendor));
    }
    if ((device & ~0xffff) != 0
        || (revision & ~0xff) != 0
        || (classCode & ~0xffffff) != 0
        || (subsystemVendor & ~0xffff) != 0
        || (subsystem & ~0xffff) != 0) {
      throw new IllegalArgumentException(
          "cannot describe a PCI function: a field is out of range in " + this);
    }
  }
}
