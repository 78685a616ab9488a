package dev.toykvm.bench;

import dev.toykvm.devices.TestDevice;
import dev.toykvm.vmm.DeviceSpec;

/**
 * What the bench guest does in its loop, and where: the test device at MMIO 0xfeb00000 (one page)
 * or at port 0x1234 (8 ports). A posted write is an MMIO write to a region registered with {@code
 * KVM_IOREGION_POSTED_WRITES}, so it exists only on the ioregionfd route.
 */
enum AccessKind {
  MMIO_READ("MMIO read", 0, false, false),
  MMIO_WRITE("MMIO write", 1, false, false),
  POSTED_MMIO_WRITE("posted MMIO write", 1, false, true),
  PIO_IN("PIO in", 2, true, false),
  PIO_OUT("PIO out", 3, true, false);

  /** The test device on the MMIO bus. */
  static final long MMIO_BASE = 0xfeb0_0000L;

  /** The test device on the PIO bus. */
  static final long PIO_BASE = 0x1234;

  private final String label;
  private final int guestCode;
  private final boolean pio;
  private final boolean posted;

  AccessKind(String label, int guestCode, boolean pio, boolean posted) {
    this.label = label;
    this.guestCode = guestCode;
    this.pio = pio;
    this.posted = posted;
  }

  /** E.g. {@code "MMIO read"}. */
  String label() {
    return label;
  }

  /** The {@code kind} field of the bench guest's parameter block. */
  int guestCode() {
    return guestCode;
  }

  boolean pio() {
    return pio;
  }

  boolean posted() {
    return posted;
  }

  /** Whether this kind can be measured on {@code route} with accesses of {@code size} bytes. */
  boolean runsOn(DeviceSpec.Route route, int size) {
    return (!posted || route == DeviceSpec.Route.IOREGIONFD) && (!pio || size <= 4);
  }

  /** The MMIO address or port the guest accesses: the test device's data register. */
  long target() {
    return (pio ? PIO_BASE : MMIO_BASE) + TestDevice.DATA;
  }

  /** The test device for this kind, reached by {@code route}. */
  DeviceSpec device(DeviceSpec.Route route) {
    String where =
        pio
            ? String.format("pio=0x%x,size=%d", PIO_BASE, TestDevice.PIO_SIZE)
            : String.format("mmio=0x%x,size=0x%x", MMIO_BASE, TestDevice.MMIO_SIZE);
    return DeviceSpec.parse(
        "testdev,"
            + where
            + ",route="
            + Routes.label(route)
            + (posted ? ",posted=on" : "")
            + ",name=bench-testdev");
  }
}
