package dev.toykvm.vmm;

import dev.toykvm.kvm.KvmConstants;
import dev.toykvm.kvm.VcpuFd;
import dev.toykvm.kvm.VmFd;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The PC's interrupt controllers and timer, in the kernel side as kvmtool and Firecracker have
 * them: {@code KVM_CREATE_IRQCHIP} (two 8259s, the I/O APIC, a local APIC per vCPU) and {@code
 * KVM_CREATE_PIT2} before any vCPU, then each vCPU's LINT0 set to ExtINT and LINT1 to NMI through
 * {@code KVM_GET/SET_LAPIC}: on a PC the firmware wires the 8259's INTR to the CPU through LINT0
 * (the "virtual wire"), and there is no firmware here to do it.
 *
 * <p>With it, {@code hlt} waits in the kernel side. A {@code hlt} with interrupts disabled would
 * wait forever once no other vCPU can send it an NMI or INIT (this machine has no other NMI
 * source), so {@link KvmConstants#KVM_CAP_TOYKVM_HLT_IF0_EXIT} is enabled when the kernel side
 * offers it: such a {@code hlt} then returns {@code KVM_EXIT_HLT} when every vCPU is in one or
 * waits for SIPI, which ends the VM as a guest that halted (67).
 */
final class PcInterrupts {
  private PcInterrupts() {}

  // Local APIC registers (offsets in the KVM_GET_LAPIC page) and LVT fields.
  static final int LVT_LINT0 = 0x350;
  static final int LVT_LINT1 = 0x360;
  static final int LVT_DELIVERY_MODE = 0x700;
  static final int LVT_MASKED = 1 << 16;
  static final int DELIVERY_EXTINT = 0x700;
  static final int DELIVERY_NMI = 0x400;

  // What the kernel side serves; no device of the VMM may sit there.
  static final int PIC_MASTER = 0x20;
  static final int PIC_SLAVE = 0xa0;
  static final int ELCR = 0x4d0;
  static final int PIT = 0x40;
  static final int PIT_PORT_B = 0x61;
  static final long IOAPIC_BASE = 0xfec00000L;
  static final long LAPIC_BASE = 0xfee00000L;
  static final long APIC_PAGE = 0x1000;

  /**
   * Creates the irqchip and the PIT on {@code vm}, which has no vCPU yet, and asks for {@code
   * KVM_EXIT_HLT} on a {@code hlt} with interrupts disabled if the kernel side can give it.
   */
  static void create(VmFd vm) {
    vm.createIrqchip();
    vm.createPit2();
    if (vm.checkExtension(KvmConstants.KVM_CAP_TOYKVM_HLT_IF0_EXIT) > 0) {
      vm.enableCap(KvmConstants.KVM_CAP_TOYKVM_HLT_IF0_EXIT, 1);
    }
  }

  /**
   * LINT0: ExtINT, unmasked (the 8259 reaches the CPU; not left to KVM's reset quirk); LINT1: NMI,
   * its mask as it was, as kvmtool and Firecracker set them.
   */
  static void wireLapic(VcpuFd vcpu) {
    ByteBuffer page = ByteBuffer.wrap(vcpu.getLapic()).order(ByteOrder.LITTLE_ENDIAN);
    int lint0 = page.getInt(LVT_LINT0);
    page.putInt(LVT_LINT0, (lint0 & ~(LVT_DELIVERY_MODE | LVT_MASKED)) | DELIVERY_EXTINT);
    int lint1 = page.getInt(LVT_LINT1);
    page.putInt(LVT_LINT1, (lint1 & ~LVT_DELIVERY_MODE) | DELIVERY_NMI);
    vcpu.setLapic(page.array());
  }

  /** Reserves what the kernel side serves, so that a {@code --device} there is refused. */
  static void reserve(DeviceManager devices) {
    devices.reserve("the in-kernel 8259 (master)", true, PIC_MASTER, 2);
    devices.reserve("the in-kernel 8259 (slave)", true, PIC_SLAVE, 2);
    devices.reserve("the in-kernel 8259's ELCR", true, ELCR, 2);
    devices.reserve("the in-kernel 8254 PIT", true, PIT, 4);
    devices.reserve("the in-kernel 8254's port 0x61", true, PIT_PORT_B, 1);
    devices.reserve("the in-kernel I/O APIC", false, IOAPIC_BASE, APIC_PAGE);
    devices.reserve("the in-kernel local APIC", false, LAPIC_BASE, APIC_PAGE);
  }
}
