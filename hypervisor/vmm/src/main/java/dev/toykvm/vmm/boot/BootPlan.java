package dev.toykvm.vmm.boot;

import java.util.List;

/**
 * What a loader decided: bytes to copy into guest RAM and where the kernel starts.
 *
 * @param pieces the bytes to place (each followed by zeros up to its memory size)
 * @param entry the guest-physical entry point
 * @param infoAddress what the kernel is handed: the multiboot information's address (EBX), or
 *     Linux's {@code boot_params} (ESI/RSI)
 * @param gdtAddress the GDT the entry segments describe
 * @param protocol the entry state the kernel expects
 * @param pageTables with {@link Protocol#LINUX_64}: the PML4 of the identity map (CR3); else 0
 */
public record BootPlan(
    List<LoadSegment> pieces,
    long entry,
    long infoAddress,
    long gdtAddress,
    Protocol protocol,
    long pageTables) {
  /** How the kernel is entered. */
  public enum Protocol {
    /** Multiboot v1: flat 32-bit, EAX magic, EBX information. */
    MULTIBOOT,
    /** Linux's 32-bit boot protocol: flat 32-bit with __BOOT_CS 0x10, ESI boot_params. */
    LINUX_32,
    /** Linux's 64-bit boot protocol: long mode, identity-mapped, RSI boot_params. */
    LINUX_64
  }

  public BootPlan {
    pieces = List.copyOf(pieces);
  }

  /** A multiboot plan. */
  public BootPlan(List<LoadSegment> pieces, long entry, long infoAddress, long gdtAddress) {
    this(pieces, entry, infoAddress, gdtAddress, Protocol.MULTIBOOT, 0);
  }
}
