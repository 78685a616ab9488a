package dev.toykvm.vmm.pci;

import dev.toykvm.kvm.VcpuFd;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** A local APIC looked at through {@code KVM_GET_LAPIC}/{@code KVM_SET_LAPIC}, for the tests. */
final class MsixKernel {
  private static final int SPIV = 0xf0;
  private static final int IRR = 0x200;

  private MsixKernel() {}

  /** Software-enables the APIC (SPIV bit 8), so that it accepts interrupts. */
  static void enableApic(VcpuFd vcpu) {
    ByteBuffer page = page(vcpu);
    page.putInt(SPIV, 0x1ff);
    vcpu.setLapic(page.array());
  }

  /** Whether {@code vector}'s IRR bit is set. */
  static boolean requested(VcpuFd vcpu, int vector) {
    int irr = page(vcpu).getInt(IRR + 0x10 * (vector / 32));
    return (irr & 1 << (vector % 32)) != 0;
  }

  /** Clears every IRR bit (as if the vCPU had taken them all). */
  static void clearRequests(VcpuFd vcpu) {
    ByteBuffer page = page(vcpu);
    for (int i = 0; i < 8; i++) {
      page.putInt(IRR + 0x10 * i, 0);
    }
    vcpu.setLapic(page.array());
  }

  private static ByteBuffer page(VcpuFd vcpu) {
    return ByteBuffer.wrap(vcpu.getLapic()).order(ByteOrder.LITTLE_ENDIAN);
  }
}
