package dev.toykvm.kernel;

import dev.toykvm.kernel.Requests.Done;
import dev.toykvm.kernel.Requests.Failed;
import dev.toykvm.kvm.Errno;
import dev.toykvm.kvm.KvmException;

/**
 * The vCPU ioctls as its engine thread serves them: one request from the mailbox, one reply (a
 * value, {@link Done}, or {@link Failed} with the errno the ioctl gives). Also served while an
 * MMIO/PIO exit waits inside a callback, where changing the registers is refused ({@code EBUSY}:
 * the access in flight would resume on other registers).
 */
final class VcpuRequests {
  private VcpuRequests() {}

  static Object handle(VcpuEngine e, Object request) {
    try {
      return switch (request) {
        case Requests.Init i -> e.init();
        case Requests.Run r -> {
          e.cpuid.ran();
          yield e.run(r.held());
        }
        case Requests.SetCpuid s -> {
          e.cpuid.set(s.entries());
          yield new Done();
        }
        case Requests.Interrupt i -> {
          e.queueInterrupt(i.vector());
          yield new Done();
        }
        case Requests.GetRegs g -> e.regs();
        case Requests.SetRegs s -> {
          if (e.inAccess()) {
            yield busy("KVM_SET_REGS");
          }
          e.setRegs(s.regs());
          yield new Done();
        }
        case Requests.GetSregs g -> e.sregs();
        case Requests.SetSregs s -> {
          if (e.inAccess()) {
            yield busy("KVM_SET_SREGS");
          }
          e.setSregs(s.sregs());
          yield new Done();
        }
        case Requests.GetLapic g -> e.irq().getState();
        case Requests.SetLapic s -> {
          e.irq().setState(s.state());
          yield new Done();
        }
        case Requests.GetMpState g -> e.mp().state();
        case Requests.SetMpState s -> {
          e.mp().set(s.mpState());
          yield new Done();
        }
        default -> throw new IllegalStateException("unknown request " + request);
      };
    } catch (KvmException ex) {
      return new Failed(ex);
    } catch (RuntimeException ex) {
      return new Failed(KernelBug.report("vcpu" + e.id() + " " + request, ex));
    }
  }

  private static Failed busy(String ioctl) {
    return new Failed(
        new KvmException(
            ioctl, Errno.EBUSY, "an MMIO/PIO exit is waiting for the run() that completes it"));
  }
}
