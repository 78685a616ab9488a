package dev.toykvm.devices;

/**
 * Guest physical memory as a device doing DMA sees it. A device never throws at the guest: an
 * access that is not wholly inside guest RAM returns {@code false} and moves nothing (the device
 * then reports the error as its hardware would, e.g. fw_cfg's error bit).
 */
public interface GuestMemory {

  /**
   * Copies {@code dst.length} bytes from guest physical address {@code addr} into {@code dst}.
   *
   * @return {@code false}, with {@code dst} in an unspecified state, if any byte of the range is
   *     not guest RAM
   */
  boolean read(long addr, byte[] dst);

  /**
   * Copies {@code src} to guest physical address {@code addr}.
   *
   * @return {@code false}, with nothing written, if any byte of the range is not guest RAM
   */
  boolean write(long addr, byte[] src);
}
