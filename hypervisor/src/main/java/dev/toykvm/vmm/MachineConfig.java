package dev.toykvm.vmm;

import dev.toykvm.kvm.KvmConstants;
import java.time.Duration;
import java.util.Optional;

/**
 * What the user chose for one VM.
 *
 * @param memory total guest memory in bytes: RAM is 0..640 KiB plus 1 MiB..{@code memory}
 * @param trace print every exit to the trace stream as it happens
 * @param timeout stop the guest after this long, if present
 */
public record MachineConfig(long memory, boolean trace, Optional<Duration> timeout) {

  /**
   * @throws IllegalArgumentException if the memory size is not a multiple of 4 KiB between {@link
   *     MachineLayout#MIN_MEMORY} and {@link MachineLayout#MAX_MEMORY}
   */
  public MachineConfig {
    if (memory % KvmConstants.PAGE_SIZE != 0
        || memory < MachineLayout.MIN_MEMORY
        || memory > MachineLayout.MAX_MEMORY) {
      throw new IllegalArgumentException(
          "memory must be a multiple of 4 KiB from 2 MiB to 3 GiB, not " + memory + " bytes");
    }
  }

  /** 16 MiB, no trace, no timeout. */
  public static MachineConfig defaults() {
    return new MachineConfig(MachineLayout.DEFAULT_MEMORY, false, Optional.empty());
  }
}
