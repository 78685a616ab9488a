package dev.toykvm.kernel;

import static dev.toykvm.kvm.KvmConstants.KVM_INTERNAL_ERROR_DELIVERY_EV;
import static dev.toykvm.kvm.KvmConstants.KVM_INTERNAL_ERROR_EMULATION;

import dev.toykvm.kernel.unicorn.UcEngine;
import dev.toykvm.kernel.x86.ExceptionDelivery;
import dev.toykvm.kvm.VcpuExit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The exits a vCPU gives when delivery or emulation cannot go on. */
final class DeliveryExits {
  private static final Logger log = LoggerFactory.getLogger(VcpuEngine.class);

  private DeliveryExits() {}

  /**
   * The exit for a delivery's outcome: none (null) if delivered, {@code KVM_EXIT_SHUTDOWN} for a
   * triple fault, {@code KVM_EXIT_INTERNAL_ERROR} (delivery) for what is not modelled.
   */
  static VcpuExit of(int vcpuId, ExceptionDelivery delivery, ExceptionDelivery.Outcome outcome) {
    return switch (outcome) {
      case DELIVERED -> null;
      case TRIPLE_FAULT -> {
        log.debug("vcpu{}: {}", vcpuId, delivery.lastProblem());
        yield new VcpuExit.Shutdown();
      }
      case UNSUPPORTED ->
          new VcpuExit.InternalError(KVM_INTERNAL_ERROR_DELIVERY_EV, delivery.lastProblem());
    };
  }

  /** The emulation failure for an error of {@code uc_emu_start} toykvm has no remedy for. */
  static VcpuExit emulatorError(long rip, int err) {
    String what =
        switch (err) {
          case dev.toykvm.kernel.unicorn.Uc.ERR_FETCH_UNMAPPED,
              dev.toykvm.kernel.unicorn.Uc.ERR_FETCH_PROT ->
              "instruction fetch from an address that is not RAM";
          case dev.toykvm.kernel.unicorn.Uc.ERR_WRITE_PROT -> "write to read-only memory";
          default -> "the emulator stopped";
        };
    return emulationFailure(rip, err, what);
  }

  /** {@code KVM_EXIT_INTERNAL_ERROR} (emulation) for Unicorn's error {@code err} at {@code rip}. */
  static VcpuExit emulationFailure(long rip, int err, String what) {
    return new VcpuExit.InternalError(
        KVM_INTERNAL_ERROR_EMULATION,
        String.format("%s at RIP 0x%x (%s)", what, rip, UcEngine.strerror(err)));
  }

  /**
   * {@code uc_emu_start} returned normally with no stop toykvm asked for and no {@code hlt} before
   * RIP: an emulator stop toykvm cannot explain, reported rather than taken for a {@code hlt}.
   */
  static VcpuExit unexplainedStop(long rip) {
    return new VcpuExit.InternalError(
        KVM_INTERNAL_ERROR_EMULATION,
        String.format(
            "the emulator stopped at RIP 0x%x with no hlt there and no reason toykvm knows of",
            rip));
  }

  /**
   * What a data access beyond guest-physical memory is ({@code UC_MEM_READ/WRITE_UNMAPPED}): the
   * {@code KVM_EXIT_INTERNAL_ERROR} text.
   */
  static String beyondPhysicalSpace(boolean write, long address, int size) {
    return String.format(
        "%s of %d bytes at guest-physical 0x%x, beyond the 36-bit physical address space",
        write ? "write" : "read", size, address);
  }
}
