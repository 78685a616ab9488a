package dev.toykvm.vmm.boot;

import java.util.List;

/**
 * What a loader decided: bytes to copy into guest RAM and where the kernel starts.
 *
 * @param pieces the bytes to place (each followed by zeros up to its memory size)
 * @param entry the guest-physical entry point
 * @param infoAddress the multiboot information's address (EBX at entry)
 * @param gdtAddress the GDT the entry segments describe
 */
public record BootPlan(List<LoadSegment> pieces, long entry, long infoAddress, long gdtAddress) {
  public BootPlan {
    pieces = List.copyOf(pieces);
  }
}
