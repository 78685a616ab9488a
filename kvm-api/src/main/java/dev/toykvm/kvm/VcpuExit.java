package dev.toykvm.kvm;

import java.util.function.LongConsumer;

/**
 * Why {@link VcpuFd#run()} returned: one record per {@code KVM_EXIT_*} reason, so that a VMM
 * handles exits with an exhaustive {@code switch}.
 *
 * <p>For {@link IoIn} and {@link MmioRead} the VMM supplies the value read with {@code
 * setData(long)} before the next {@code run()}, which completes the access, exactly as a VMM fills
 * {@code kvm_run->io} or {@code kvm_run->mmio.data}. A read the VMM does not answer reads as
 * all-ones, like a read from an unclaimed bus.
 *
 * {@snippet :
 * switch (vcpu.run()) {
 *   case VcpuExit.IoOut out when out.port() == 0x3f8 -> serial.write((byte) out.data());
 *   case VcpuExit.MmioRead read -> read.setData(device.read(read.address(), read.size()));
 *   case VcpuExit.Hlt hlt -> running = false;
 *   default -> {}
 * }
 * }
 */
public sealed interface VcpuExit {

  /** The {@code KVM_EXIT_*} number of this exit. */
  int reason();

  /** {@code KVM_EXIT_IO}, direction in: the guest executed {@code in}; answer with setData. */
  record IoIn(int port, int size, LongConsumer completion) implements VcpuExit {
    /** Supplies the value the guest's {@code in} reads (truncated to {@code size} bytes). */
    public void setData(long value) {
      completion.accept(value);
    }

    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_IO;
    }
  }

  /** {@code KVM_EXIT_IO}, direction out: the guest executed {@code out}. */
  record IoOut(int port, int size, long data) implements VcpuExit {
    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_IO;
    }
  }

  /** {@code KVM_EXIT_MMIO}, a read: answer with setData before the next run(). */
  record MmioRead(long address, int size, LongConsumer completion) implements VcpuExit {
    /** Supplies the value the guest reads (little-endian, truncated to {@code size} bytes). */
    public void setData(long value) {
      completion.accept(value);
    }

    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_MMIO;
    }
  }

  /** {@code KVM_EXIT_MMIO}, a write of {@code size} bytes (1, 2, 4 or 8), little-endian. */
  record MmioWrite(long address, int size, long data) implements VcpuExit {
    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_MMIO;
    }
  }

  /** {@code KVM_EXIT_HLT}: the guest executed {@code hlt} (no in-kernel irqchip). */
  record Hlt() implements VcpuExit {
    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_HLT;
    }
  }

  /** {@code KVM_EXIT_SHUTDOWN}: a triple fault; the vCPU cannot run on without a reset. */
  record Shutdown() implements VcpuExit {
    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_SHUTDOWN;
    }
  }

  /**
   * {@code KVM_EXIT_FAIL_ENTRY}: the vCPU state could not be entered (on hardware: a VM-entry
   * failure). {@code reason} says which state was rejected.
   */
  record FailEntry(long hardwareEntryFailureReason, String description) implements VcpuExit {
    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_FAIL_ENTRY;
    }
  }

  /**
   * {@code KVM_EXIT_INTERNAL_ERROR}: something the kernel side cannot emulate; {@code suberror} is
   * one of {@code KVM_INTERNAL_ERROR_*} and {@code description} says what.
   */
  record InternalError(int suberror, String description) implements VcpuExit {
    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_INTERNAL_ERROR;
    }
  }

  /**
   * {@code KVM_EXIT_INTR}: {@code run()} was interrupted by {@link VcpuFd#kick()} (the counterpart
   * of a signal). An access in progress is resumed by the next {@code run()}.
   */
  record Intr() implements VcpuExit {
    @Override
    public int reason() {
      return KvmConstants.KVM_EXIT_INTR;
    }
  }
}
